import Foundation
import Glibc
import Testing

/// Tab completion of account ids and tenants asks the daemon; it must never print an error
/// into the shell's command line or keep the shell waiting.
@Suite("tenantsyncctl shell completion through the control socket", .serialized)
struct CompletionTests {
    /// What the generated scripts run on Tab: `tenantsyncctl ---completion SUBCOMMANDS -- ARGUMENT
    /// INDEX CURSOR WORDS...`, the word being completed last.
    /// `timeout`: TENANTSYNC_COMPLETION_TIMEOUT; absent, the 2 s default applies.
    static func complete(_ subcommands: [String], _ argument: String, socket: String, typed: String, timeout: String? = "120") async throws -> ProcessResult {
        let words = ["tenantsyncctl", "--socket", socket] + subcommands + (argument.hasPrefix("--") ? [argument] : []) + [typed]
        return try await CtlCommandTests.run(
            ["---completion"] + subcommands + ["--", argument, String(words.count - 1), String(typed.count)] + words,
            // The test's own server answers; under the load of the whole suite that can take longer than 2 s.
            environment: timeout.map { ["TENANTSYNC_COMPLETION_TIMEOUT": $0] } ?? [:]
        )
    }

    static func candidates(_ result: ProcessResult) -> [String] {
        result.stdout.split(separator: "\n").map(String.init)
    }

    @Test("account ids and tenant domains come from the daemon, filtered by what is typed")
    func candidatesFromTheDaemon() async throws {
        try await ControlServerHarness.withServer { path, _ in
            let ids = try await Self.complete(["account"], "positional@0", socket: path, typed: "")
            #expect(ids.status == 0, "\(ids.stderr)")
            #expect(Self.candidates(ids) == ["7", "8"], "account ids: \(ids.stdout)")
            let renew = try await Self.complete(["renew"], "positional@0", socket: path, typed: "8")
            #expect(Self.candidates(renew) == ["8"], "renew ids after typing 8: \(renew.stdout)")
            let tenants = try await Self.complete(["sync"], "--tenant", socket: path, typed: "con")
            #expect(tenants.status == 0, "\(tenants.stderr)")
            #expect(Self.candidates(tenants) == ["contoso.example"], "tenants (each once): \(tenants.stdout)")
            let none = try await Self.complete(["targets"], "--tenant", socket: path, typed: "fabrikam")
            #expect(Self.candidates(none).isEmpty)
        }
    }

    @Test("an unreachable daemon or a refused caller gives no candidates and no error text")
    func failsSilently() async throws {
        let absent = try await Self.complete(["account"], "positional@0", socket: "/nonexistent/control", typed: "")
        #expect(absent.status == 0 && absent.stdout.isEmpty && absent.stderr.isEmpty, "unreachable: \(absent)")
        try await ControlServerHarness.withServer(authorize: { _ in false }) { path, _ in
            let refused = try await Self.complete(["sync"], "--tenant", socket: path, typed: "")
            #expect(refused.status == 0 && refused.stdout.isEmpty && refused.stderr.isEmpty, "refused: \(refused)")
        }
    }

    @Test("a daemon that accepts but never answers does not keep the shell waiting")
    func silentDaemonIsBoundedByTheDeadline() async throws {
        // A listening socket nobody accepts on: connect and write succeed, no reply ever comes.
        let directory = try ControlServerHarness.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/control"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0 && listen(fd, 8) == 0)
        let started = ContinuousClock.now
        let result = try await Self.complete(["account"], "positional@0", socket: path, typed: "", timeout: nil)
        let took = ContinuousClock.now - started
        #expect(result.status == 0 && result.stdout.isEmpty && result.stderr.isEmpty, "\(result)")
        // The default deadline (2 s) plus the start of a debug tenantsyncctl on a busy machine.
        #expect(took < .seconds(15), "Tab waited \(took) for a silent daemon (the deadline is 2 s)")
    }
}
