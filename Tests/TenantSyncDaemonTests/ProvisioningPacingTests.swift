import Foundation
import M365Emulator
import Testing
import TestSupport

/// Provisioning's Graph requests go through the daemon's pacer like a sync's: each carries the
/// `x-ms-throttle-priority` only the pacing path adds, and they are metered in the tenant's budget.
@Suite("Provisioning requests are paced", .serialized)
struct ProvisioningPacingTests {
    @Test func everyGraphRequestOfProvisioningAndItsFirstSyncIsPaced() async throws {
        try await ProvisioningHarness.with { h in
            let run = try await h.provision("sharepoint-online", ["--scope", "all", "--confirm-app-principal"], approvals: [true])
            #expect(run.status == 0, "\(run.all)")
            let sent = h.emulator.requestLog(tenant: h.tenant.id).filter { $0.kind == "graph" }
            #expect(sent.contains { $0.path.hasSuffix("/organization") }, "provisioning reads /organization: \(sent.map(\.path))")
            let unpaced = sent.filter { $0.priority == nil }
            #expect(unpaced.isEmpty, "sent without the pacer: \(unpaced.map(\.path))")
        }
    }
}
