import ControlPlane
import Foundation
import Testing
import TenantSyncCore
import TestSupport

/// The control-socket fuzzer against the REAL daemon: its answers judged one by one, and its own memory and
/// descriptors (read from /proc for its pid, so the tests around do not blur them) bounded after the run.
@Suite("Fuzzing the real daemon's control socket", .serialized)
struct ControlSocketFuzzDaemonTests {
    @Test("tenantsyncd answers 6,000 hostile messages with valid Varlink errors, keeps answering valid calls, and ends with its descriptors and memory bounded", .timeLimit(.minutes(5)))
    func fuzzTheDaemon() async throws {
        try await ProvisioningHarness.with { h in
            let pid = h.daemon.pid
            let fuzzer = ControlSocketFuzzer(socketPath: h.socket, oracle: FuzzOracle(version: TenantSyncVersion.current), maximumMessageSize: 1 << 20)
            // Warm-up, so that the daemon's first connections and buffers are in the baseline.
            let warmUp = try await fuzzer.run(workers: 2, perWorker: 100)
            #expect(warmUp.problems.isEmpty, "wrong answers:\n\(warmUp.problems.joined(separator: "\n"))")
            let idle = try await eventually(timeout: .seconds(10), "warm-up connections released") {
                try ProcessResources.unixSockets(boundTo: h.socket, heldBy: pid) == 1
            }
            try #require(idle, "the daemon kept warm-up connections open")
            let baseline = try ProcessResources.current(pid: pid)

            let workers = 4
            let perWorker = 1_500
            let tally = try await fuzzer.run(workers: workers, perWorker: perWorker)
            print("daemon fuzz: \(tally.sent) messages, \(tally.replies) valid answers, \(tally.closes) closed connections, \(tally.validCallsAnswered) interleaved GetInfo answered")
            #expect(tally.problems.isEmpty, "wrong answers:\n\(tally.problems.joined(separator: "\n"))")
            #expect(tally.sent == workers * perWorker)
            #expect(tally.replies > 2_000, "JSON-object messages must get error replies, not closes: \(tally.replies) of \(tally.sent)")
            #expect(tally.validCallsAnswered >= tally.sent / 7, "interleaved valid calls answered: \(tally.validCallsAnswered)")
            #expect(h.daemon.isRunning, "the daemon died under the fuzz: \(h.daemon.log.suffix(2000))")

            // After the run: only the listener on the socket, no descriptor more than before, memory bounded
            // (12 of the messages were 1 MiB; the daemon may keep some of what it allocated, not all of it).
            let released = try await eventually(timeout: .seconds(10), "connections released") {
                try ProcessResources.unixSockets(boundTo: h.socket, heldBy: pid) == 1
            }
            #expect(released, "the daemon still holds connections after the run")
            let after = try ProcessResources.current(pid: pid)
            print("daemon fuzz: before \(baseline), after \(after)")
            #expect(after.openDescriptors <= baseline.openDescriptors + 2, "descriptors leaked: before \(baseline), after \(after)")
            #expect(after.residentKiB - baseline.residentKiB < 64 * 1024, "resident memory grew by \((after.residentKiB - baseline.residentKiB) / 1024) MiB")
        }
    }
}
