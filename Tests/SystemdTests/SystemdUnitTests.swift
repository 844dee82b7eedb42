import Foundation
import Testing
import TestSupport

/// The shipped service unit `systemd/tenantsyncd.service`, rated by the real `systemd-analyze`.
struct SystemdUnitTests {
    static let unitPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("systemd/tenantsyncd.service").path

    /// The values of `key=` lines in the unit, in order (comments skipped).
    static func values(of key: String) throws -> [String] {
        try String(contentsOfFile: unitPath, encoding: .utf8)
            .split(separator: "\n")
            .filter { !$0.hasPrefix("#") && $0.hasPrefix("\(key)=") }
            .map { String($0.dropFirst(key.count + 1)) }
    }

    /// Exit statuses that no restart can heal: a newer schema (65), a corrupt database (74), an
    /// unusable key (77) and a bad configuration (78), as `tenantsyncd`'s ExitCodes assigns them.
    @Test func restartIsPreventedForEveryStatusARestartCannotHeal() throws {
        let statuses = Set(try Self.values(of: "RestartPreventExitStatus").flatMap { $0.split(separator: " ").map(String.init) })
        #expect(statuses.isSuperset(of: ["65", "74", "77", "78"]), "RestartPreventExitStatus= lists \(statuses.sorted())")
    }

    @Test func resourcesAreBoundedAndIPCIsPrivate() throws {
        #expect(try Self.values(of: "MemoryMax").count == 1, "MemoryMax= bounds a runaway sync")
        #expect(try Self.values(of: "TasksMax").count == 1, "TasksMax= bounds threads and hook processes")
        #expect(try Self.values(of: "PrivateIPC") == ["yes"])
    }

    @Test func exposureStaysAtOrBelowOnePointFive() async throws {
        let analyze = try #require(ChildProcess.which("systemd-analyze"), "systemd-analyze is part of this machine's systemd")
        let result = try await ChildProcess.run(analyze, ["security", "--offline=true", Self.unitPath])
        let line = try #require(
            result.all.split(separator: "\n").first { $0.contains("Overall exposure level") },
            "no exposure line in: \(result.all)"
        )
        let number = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
        let exposure = try #require(number, "cannot read the exposure from: \(line)")
        #expect(exposure <= 1.5, "the unit's exposure rose to \(exposure)")
    }
}
