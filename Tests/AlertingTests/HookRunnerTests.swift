@testable import Alerting
import Foundation
import TenantSyncCore
import Testing
import TestSupport

/// Hooks are real processes started without a shell (the fixture script is itself a `/bin/sh` script).
struct HookRunnerTests {
    static let script = SMTPServer.fixtures + "/hook.sh"

    static func alert() -> Alert {
        Alert(
            id: 7, kind: "token-invalid", severity: .critical, tenantID: "t-1", accountID: 17, grantID: 3, incidentID: nil,
            subject: "Access token invalid", body: "body with \"quotes\" and ünïcødé", facts: AlertFacts(aadstsCode: 70008),
            createdAt: Date(timeIntervalSince1970: 1_795_000_000), acknowledgedAt: nil
        )
    }

    @Test func hookReceivesTheAlertAsJSONOnStdin() async throws {
        let directory = try TestAlerts.temporaryDirectory()
        let output = directory + "/alert.json"
        let channel = HookAlertChannel(command: HookCommand(name: "pager", arguments: [Self.script, output, "ok"], kinds: ["token-invalid"]))
        #expect(channel.name == "hook:pager")
        #expect(channel.accepts(kind: "token-invalid"))
        #expect(!channel.accepts(kind: "sync-finished"))
        try await channel.deliver(Self.alert())
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output))) as? [String: Any])
        #expect(json["id"] as? Int == 7)
        #expect(json["kind"] as? String == "token-invalid")
        #expect(json["severity"] as? String == "critical")
        #expect(json["tenant_id"] as? String == "t-1")
        #expect(json["account_id"] as? Int == 17)
        #expect(json["body"] as? String == "body with \"quotes\" and ünïcødé")
        #expect((json["details"] as? [String: Any])?["aadsts.code"] as? Int == 70008)
        #expect(json["incident_id"] is NSNull)
    }

    @Test func nonZeroExitFailsWithStatusAndStderr() async throws {
        let directory = try TestAlerts.temporaryDirectory()
        let error = await #expect(throws: HookError.self) {
            try await HookRunner().run(HookCommand(name: "pager", arguments: [Self.script, directory + "/a.json", "fail"]), input: Array("{}".utf8))
        }
        #expect(error?.reason == .exited(status: 3))
        #expect(error?.stderrTail.contains("quota exceeded") == true)
        #expect(error?.description == "Hook pager exited with status 3; stderr: mail relay rejected the page: quota exceeded")
    }

    @Test("A hook's timeout runs on the injected clock: the hook is killed when that clock passes it", .timeLimit(.minutes(1)))
    func hookTimeoutRunsOnTheInjectedClock() async throws {
        let clock = ManualClock()
        let command = HookCommand(name: "slow", arguments: ["/bin/sh", "-c", "exec sleep 30"], timeout: .seconds(600))
        try await withThrowingTaskGroup(of: HookError?.self) { group in
            group.addTask {
                do {
                    try await HookRunner(clock: clock).run(command, input: [])
                    return nil
                } catch let error as HookError {
                    return error
                }
            }
            let armed = try await eventually("the hook's timeout sleeps on the manual clock") { clock.sleeperCount == 1 }
            #expect(armed, "the timeout was not slept on the injected clock; sleeps: \(clock.requestedSleeps)")
            #expect(clock.requestedSleeps == [.seconds(600)])
            clock.advance(by: .seconds(600))
            let error = try await group.next() ?? nil
            #expect(error?.reason == .timedOut(after: .seconds(600)), "\(String(describing: error))")
        }
    }

    @Test func hangingHookIsKilledAtItsTimeout() async throws {
        let directory = try TestAlerts.temporaryDirectory()
        let started = ContinuousClock.now
        let error = await #expect(throws: HookError.self) {
            try await HookRunner().run(
                HookCommand(name: "slow", arguments: [Self.script, directory + "/a.json", "hang"], timeout: .milliseconds(300)), input: Array("{}".utf8)
            )
        }
        #expect(error?.reason == .timedOut(after: .milliseconds(300)))
        // The hook sleeps 30 s: finishing well before that proves it was killed, not awaited. The margin is wide
        // because spawning processes on a loaded machine has taken over 10 s.
        #expect(ContinuousClock.now - started < .seconds(25), "the hook (and its sleeping child) must be killed, not awaited")
    }

    @Test func missingProgramAndRelativePathsAreRefused() async throws {
        let relative = await #expect(throws: HookError.self) {
            try await HookRunner().run(HookCommand(name: "rel", arguments: ["hook.sh"]), input: [])
        }
        #expect(relative?.description.contains("absolute program path") == true)
        let missing = await #expect(throws: HookError.self) {
            try await HookRunner().run(HookCommand(name: "gone", arguments: ["/nonexistent/hook"]), input: [])
        }
        if case .couldNotStart = missing?.reason {} else { Issue.record("expected couldNotStart, got \(String(describing: missing))") }
    }

    @Test func aHookWritingMoreThanAPipeHoldsToStderrIsNotBlockedAndItsTailIsKept() async throws {
        // 256 KiB on stderr: more than a socket or pipe buffer, so it only finishes if stderr is read while it runs.
        let script = "head -c 262144 /dev/zero | tr '\\0' 'e' >&2; echo ' the end' >&2; exit 4"
        let error = await #expect(throws: HookError.self) {
            try await HookRunner().run(HookCommand(name: "chatty", arguments: ["/bin/sh", "-c", script], timeout: .seconds(20)), input: [])
        }
        #expect(error?.reason == .exited(status: 4))
        #expect(error?.stderrTail.hasSuffix("eee the end\n") == true)
        #expect(error?.stderrTail.utf8.count == HookRunner.stderrTailLimit)
    }

    @Test func aSignalledHookIsReportedWithItsSignal() async throws {
        let error = await #expect(throws: HookError.self) {
            try await HookRunner().run(HookCommand(name: "self-kill", arguments: ["/bin/sh", "-c", "kill -TERM $$"]), input: [])
        }
        #expect(error?.reason == .signalled(signal: SIGTERM))
    }

    @Test func manyHooksAtOnceAllFinishWithTheirOwnOutcome() async throws {
        // The daemon runs one hook per alert and channel; bursts of them must neither mix up exits nor leak.
        let directory = try TestAlerts.temporaryDirectory()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<64 {
                group.addTask {
                    let mode = index % 4 == 0 ? "fail" : "ok"
                    let command = HookCommand(name: "burst-\(index)", arguments: [Self.script, directory + "/\(index).json", mode])
                    do {
                        try await HookRunner().run(command, input: Array("{\"index\": \(index)}".utf8))
                        #expect(mode == "ok", "hook \(index) should have failed")
                    } catch let error as HookError {
                        #expect(mode == "fail" && error.reason == .exited(status: 3), "hook \(index): \(error)")
                    }
                    let written = try String(contentsOfFile: directory + "/\(index).json", encoding: .utf8)
                    #expect(written == "{\"index\": \(index)}")
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func hookThatIgnoresStdinDoesNotKillTheDaemon() async throws {
        // /bin/true exits without reading; a big input must not raise SIGPIPE in the test process.
        try await HookRunner().run(HookCommand(name: "true", arguments: ["/bin/true"]), input: Array(repeating: UInt8(ascii: "x"), count: 1 << 20))
    }

    @Test func aHookGetsPathLangAndTheTenantsyncVariablesButNothingElseOfTheDaemonsEnvironment() async throws {
        // The daemon's environment as systemd gives it: credentials, the notify socket, the watchdog, socket activation.
        let daemon = [
            "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/var/lib/tenantsync", "CREDENTIALS_DIRECTORY": "/run/credentials/tenantsyncd.service",
            "NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1", "LISTEN_FDS": "1", "LISTEN_PID": "1",
            "LISTEN_FDNAMES": "control", "INVOCATION_ID": "0123", "JOURNAL_STREAM": "8:1",
        ]
        let directory = try TestAlerts.temporaryDirectory()
        let output = directory + "/environ"
        // /proc/PID/environ is the environment the hook was started with, before the shell adds PWD and the like.
        let command = HookCommand(name: "env-probe", arguments: ["/bin/sh", "-c", "cat >/dev/null; cat /proc/$$/environ > \"$0\"", output])
        try await HookAlertChannel(command: command, runner: HookRunner(daemonEnvironment: daemon)).deliver(Self.alert())
        let entries = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\0").map(String.init)
        var environment: [String: String] = [:]
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            environment[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        #expect(environment == [
            "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TENANTSYNC_HOOK": "env-probe", "TENANTSYNC_ALERT_ID": "7",
            "TENANTSYNC_ALERT_KIND": "token-invalid", "TENANTSYNC_ALERT_SEVERITY": "critical",
        ], "the hook saw more (or less) than its minimal environment")
    }

    @Test func theHookEnvironmentTakesOnlyTenantsyncVariablesAndDefaultsThePath() {
        let environment = HookEnvironment(daemon: ["HOME": "/root"], variables: ["TENANTSYNC_A": "1", "NOTIFY_SOCKET": "/x", "TENANTSYNC_": "empty", "TENANTSYNC_B": "a\0b"])
        #expect(environment.entries == ["PATH=\(HookEnvironment.defaultPath)", "TENANTSYNC_A=1"])
    }

    @Test func aHookThatNeverReadsABigAlertIsKilledAtItsTimeoutWithoutHoldingTheCaller() async throws {
        // 4 MiB: far more than a socket pair buffers, so the write cannot finish while the hook does not read.
        let directory = try TestAlerts.temporaryDirectory()
        let pidFile = directory + "/pid"
        let command = HookCommand(name: "deaf", arguments: ["/bin/sh", "-c", "echo $$ > \"$0\"; exec sleep 60", pidFile], timeout: .milliseconds(500))
        // A guard off the cooperative pool: if the write blocks the caller, free it after 20 s by killing the hook, so
        // the test fails with a message instead of hanging.
        let rescuedMarker = directory + "/rescued"
        let guardThread = Thread {
            Thread.sleep(forTimeInterval: 20)
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
               (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.hasPrefix("sleep") == true {
                FileManager.default.createFile(atPath: rescuedMarker, contents: nil)
                kill(pid, SIGKILL)
            }
        }
        guardThread.start()
        let started = ContinuousClock.now
        let error = await #expect(throws: HookError.self) {
            try await HookRunner().run(command, input: Array(repeating: UInt8(ascii: "x"), count: 4 << 20))
        }
        #expect(!FileManager.default.fileExists(atPath: rescuedMarker), "the write to the hook's stdin blocked past its timeout")
        #expect(error?.reason == .timedOut(after: .milliseconds(500)), "\(String(describing: error))")
        #expect(ContinuousClock.now - started < .seconds(15))
    }
}
