import AsyncHTTPClient
import Foundation
import Logging
import M365Emulator
import MicrosoftCloud
import Testing
import TenantSyncCore
import TenantSyncDaemon
import TestSupport

/// An operator's `targets` calls spend the same tenant budget as its syncs: they go through the daemon's pacer, and a
/// tenant paused by a 429 sends nothing until its Retry-After has passed.
@Suite("Operator requests are paced", .serialized)
struct OperatorRequestPacingTests {
    enum Operation: String, CaseIterable, Sendable {
        case searchGroups, addUser, addGroup, prune
    }

    @Test(arguments: Operation.allCases)
    func aTargetsCallWaitsOutItsTenantsPauseAndSendsNormalPriority(operation: Operation) async throws {
        try await SyncFixture.with(users: 60, groups: 6) { fixture in
            let tenant = fixture.tenant
            let user = try #require(try fixture.emulator.users(tenant: tenant.id, limit: 1).first)
            let listed = try #require(try fixture.emulator.groups(tenant: tenant.id).first { $0.memberCount > 0 })
            try await fixture.store.addSelectedTargets([
                SelectedTarget(tenantID: tenant.id, userPrincipalName: user.userPrincipalName, userID: user.id, source: .upn, addedAt: Date()),
            ])
            let clock = ManualClock()
            let pacer = GraphPacer(share: 0.25, clock: clock)
            var graph = GraphClient(graphRoot: fixture.url.absoluteString, http: HTTPClient.shared, requestTimeout: .seconds(10), logger: Logger(label: "test"))
            graph.pacer = pacer
            let operations = TenantOperations(
                store: fixture.store, graph: graph, tokens: fixture.tokens, coordinator: SyncCoordinator(), logger: Logger(label: "test")
            )
            // A sync of this tenant sent a request and was answered 429 with Retry-After: 30.
            let sync = GraphPacing(tenantID: tenant.id, users: nil, priority: .low)
            try await pacer.admit(sync, cost: 1)
            pacer.throttled(sync, retryAfter: .seconds(30))

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    switch operation {
                    case .searchGroups: _ = try await operations.searchGroups(tenant: tenant.domain, prefix: String(listed.displayName.prefix(3)))
                    case .addUser: _ = try await operations.addSelectedTargets(tenant: tenant.domain, userPrincipalNames: [user.userPrincipalName], groupIDs: [])
                    case .addGroup: _ = try await operations.addSelectedTargets(tenant: tenant.domain, userPrincipalNames: [], groupIDs: [listed.id])
                    case .prune: _ = try await operations.pruneSelectedTargets(tenant: tenant.domain)
                    }
                }
                #expect(try await eventually("\(operation) waits for its tenant's pause") { clock.sleeperCount == 1 })
                #expect(clock.requestedSleeps == [.seconds(30)], "\(clock.requestedSleeps)")
                #expect(try fixture.emulator.usage(tenant: tenant.id).total.requests == 0, "a Graph request went out during the pause")
                clock.advance(by: .seconds(30))
                // After its pause the tenant resumes from an empty bucket: the pacer's clock runs until the call is done.
                group.addTask {
                    while !Task.isCancelled {
                        if clock.sleeperCount > 0 { clock.advance(by: .milliseconds(100)) } else { await Task.yield() }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
            let usage = try fixture.emulator.usage(tenant: tenant.id)
            #expect(usage.total.requests > 0)
            let sent = fixture.emulator.requestLog(tenant: tenant.id).filter { $0.kind == "graph" }
            #expect(!sent.isEmpty && sent.allSatisfy { $0.priority == "Normal" }, "\(sent.map { "\($0.path) \($0.priority ?? "-")" })")
        }
    }
}
