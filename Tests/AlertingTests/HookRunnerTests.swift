@testable import Alerting
import Foundation
import TenantSyncCore
import Testing

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

    @Test func hangingHookIsKilledAtItsTimeout() async throws {
        let directory = try TestAlerts.temporaryDirectory()
        let started = ContinuousClock.now
        let error = await #expect(throws: HookError.self) {
            try await HookRunner().run(
                HookCommand(name: "slow", arguments: [Self.script, directory + "/a.json", "hang"], timeout: .milliseconds(300)), input: Array("{}".utf8)
            )
        }
        #expect(error?.reason == .timedOut(after: .milliseconds(300)))
        #expect(ContinuousClock.now - started < .seconds(10), "the hook (and its sleeping child) must be killed, not awaited")
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
}
