import Foundation
import GRDB
import Testing
@testable import TenantSyncStore
import TenantSyncCore

@Suite("Store round trips for every table")
struct RoundTripTests {
    @Test func tenantsByIdAndDomainAndScope() async throws {
        let fixture = try StoreFixture()
        let id = "6F1E2C3A-0000-4000-8000-000000000001"
        let created = try await fixture.store.upsertTenant(id: id, domain: "Contoso.com", displayName: "Contoso")
        #expect(created.id == id.lowercased())
        #expect(created.syncScope == .all)
        #expect(try await fixture.store.tenant(idOrDomain: "contoso.COM") == created)
        #expect(try await fixture.store.tenant(idOrDomain: id) == created)
        try await fixture.store.setSyncScope(tenantID: created.id, scope: .selected)
        let renamed = try await fixture.store.upsertTenant(id: id, domain: "contoso.com", displayName: "Contoso Ltd")
        #expect(renamed.syncScope == .selected, "an upsert must keep the scope")
        #expect(renamed.displayName == "Contoso Ltd")
        #expect(try await fixture.store.tenants().count == 1)
        await #expect(throws: TenantSyncError.self) { try await fixture.store.setSyncScope(tenantID: "missing", scope: .all) }
    }

    @Test func accountsAreUniquePerTenantAndService() async throws {
        let fixture = try StoreFixture()
        let (tenant, account, _, _) = try await fixture.seedExchangeAccount()
        #expect(account.state == .provisioning)
        let error = await #expect(throws: TenantSyncError.self) {
            try await fixture.store.createAccount(tenantID: tenant.id, service: .exchangeOnline, appID: nil, licensingModel: nil)
        }
        #expect(error?.code == .accountExists)
        try await fixture.store.setAccountState(id: account.id, state: .provisioning, provisioningStep: "graph-consent", provisioningError: "declined")
        try await fixture.store.setAccountDetails(id: account.id, detailsJSON: #"{"scope":"all"}"#)
        let read = try #require(try await fixture.store.account(tenantID: tenant.id, service: .exchangeOnline))
        #expect(read.provisioningStep == "graph-consent")
        #expect(read.provisioningError == "declined")
        #expect(read.detailsJSON == #"{"scope":"all"}"#)
        #expect(try await fixture.store.account(id: account.id) == read)
        #expect(try await fixture.store.accounts() == [read])
    }

    @Test func inlineMailFlowPolicyAndDirectionRoundTrip() async throws {
        let fixture = try StoreFixture()
        let (tenant, _, _, _) = try await fixture.seedExchangeAccount()
        let inline = try await fixture.store.createAccount(tenantID: tenant.id, service: .exchangeOnlineInline, appID: nil, licensingModel: nil)
        #expect(inline.inlinePolicy == nil && inline.inlineDirection == nil)
        try await fixture.store.setInlineMailFlow(accountID: inline.id, policy: "Strict", direction: .inbound)
        var read = try #require(try await fixture.store.account(id: inline.id))
        #expect(read.inlinePolicy == "Strict" && read.inlineDirection == .inbound)
        try await fixture.store.setInlineMailFlow(accountID: inline.id, policy: "Strict", direction: .both)
        read = try #require(try await fixture.store.account(id: inline.id))
        #expect(read.inlineDirection == .both)
        await #expect(throws: TenantSyncError.self) { try await fixture.store.setInlineMailFlow(accountID: 9_999, policy: "x", direction: .both) }
    }

    @Test func grantsAndTokenSetsRoundTrip() async throws {
        let fixture = try StoreFixture()
        let (_, _, ews, graph) = try await fixture.seedExchangeAccount()
        #expect(try await fixture.store.grants(accountID: ews.accountID).map(\.name) == ["ews", "graph"])
        let obtained = Date(timeIntervalSince1970: 1_800_000_000.123)
        let tokens = TokenSet(
            accessToken: Secret("access-1"), refreshToken: Secret("refresh-1"), scopes: ["https://graph.microsoft.com/.default", "offline_access"],
            obtainedAt: obtained, expiresAt: obtained + 3_600, refreshInAt: obtained + 1_800
        )
        try await fixture.store.storeTokenSet(grantID: graph.id, tokens: tokens, nextRefreshAt: obtained + 3_000)
        #expect(try await fixture.store.tokenSet(grantID: graph.id) == tokens)
        #expect(try await fixture.store.grant(id: graph.id)?.state == .valid)
        let status = try #require(try await fixture.store.tokenStatus(grantID: graph.id))
        #expect(status.generation == 1)
        #expect(status.nextRefreshAt == obtained + 3_000)
        #expect(try await fixture.store.grantsDue(before: obtained + 2_999, limit: 10).isEmpty)
        #expect(try await fixture.store.grantsDue(before: obtained + 3_000, limit: 10).map(\.id) == [graph.id])

        try await fixture.store.recordRefreshFailure(grantID: graph.id, outcome: "transient: HTTP 503", at: obtained + 3_000, nextRefreshAt: obtained + 3_060)
        let failed = try #require(try await fixture.store.tokenStatus(grantID: graph.id))
        #expect(failed.consecutiveFailures == 1)
        #expect(failed.lastRefreshOutcome == "transient: HTTP 503")

        let rotated = TokenSet(accessToken: Secret("access-2"), refreshToken: Secret("refresh-2"), scopes: tokens.scopes, obtainedAt: obtained + 3_060, expiresAt: obtained + 7_000)
        try await fixture.store.storeTokenSet(grantID: graph.id, tokens: rotated, nextRefreshAt: obtained + 6_000)
        #expect(try await fixture.store.tokenSet(grantID: graph.id) == rotated)
        let after = try #require(try await fixture.store.tokenStatus(grantID: graph.id))
        #expect(after.generation == 2)
        #expect(after.consecutiveFailures == 0)

        try await fixture.store.setGrantState(id: graph.id, state: .invalid)
        #expect(try await fixture.store.grantsDue(before: obtained + 9_000, limit: 10).isEmpty, "invalid grants are never due")
    }

    @Test func sealedTokenCopiedToAnotherGrantDoesNotOpen() async throws {
        let fixture = try StoreFixture()
        let (_, _, ews, graph) = try await fixture.seedExchangeAccount()
        let now = Date()
        try await fixture.store.storeTokenSet(grantID: ews.id, tokens: TokenSet(accessToken: Secret("a"), refreshToken: nil, scopes: [], obtainedAt: now, expiresAt: now), nextRefreshAt: now)
        try await fixture.store.storeTokenSet(grantID: graph.id, tokens: TokenSet(accessToken: Secret("b"), refreshToken: nil, scopes: [], obtainedAt: now, expiresAt: now), nextRefreshAt: now)
        try await fixture.store.pool.write { db in
            try db.execute(sql: """
                UPDATE token_sets SET access_token_sealed = (SELECT access_token_sealed FROM token_sets WHERE grant_id = ?)
                WHERE grant_id = ?
                """, arguments: [ews.id, graph.id])
        }
        let error = await #expect(throws: TenantSyncError.self) { try await fixture.store.tokenSet(grantID: graph.id) }
        #expect(error?.code == .secretCorrupted)
    }

    @Test func clientSecretsRoundTripAndAccountDeletionWipesTokens() async throws {
        let fixture = try StoreFixture()
        let tenant = try await fixture.store.upsertTenant(id: UUID().uuidString, domain: "fabrikam.com", displayName: nil)
        let account = try await fixture.store.createAccount(tenantID: tenant.id, service: .teamsChat, appID: nil, licensingModel: .b)
        #expect(account.licensingModel == .b)
        let expiry = Date(timeIntervalSince1970: 1_900_000_000)
        try await fixture.store.setClientSecret(accountID: account.id, appID: "11111111-2222-3333-4444-555555555555", secret: Secret("s3cr3t"), expiresAt: expiry)
        #expect(try await fixture.store.clientSecret(accountID: account.id) == Secret("s3cr3t"))
        let read = try #require(try await fixture.store.account(id: account.id))
        #expect(read.appID == "11111111-2222-3333-4444-555555555555")
        #expect(read.clientSecretExpiresAt == expiry)

        let grant = try await fixture.store.addGrant(accountID: account.id, name: "app", resource: "https://graph.microsoft.com/.default", flow: .clientCredentials)
        try await fixture.store.storeTokenSet(grantID: grant.id, tokens: TokenSet(accessToken: Secret("t"), refreshToken: nil, scopes: [], obtainedAt: .now, expiresAt: .now), nextRefreshAt: .now)
        try await fixture.store.deleteAccount(id: account.id)
        #expect(try await fixture.store.account(id: account.id) == nil)
        #expect(try await fixture.store.tokenSet(grantID: grant.id) == nil)
        let leftovers = try await fixture.store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM token_sets") }
        #expect(leftovers == 0)
        let error = await #expect(throws: TenantSyncError.self) { try await fixture.store.deleteAccount(id: account.id) }
        #expect(error?.code == .accountNotFound)
    }

    @Test func incidentsOpenOnceAndResolve() async throws {
        let fixture = try StoreFixture()
        let (_, account, ews, _) = try await fixture.seedExchangeAccount()
        let seen = Date(timeIntervalSince1970: 1_800_000_000)
        let report = IncidentReport(grantID: ews.id, accountID: account.id, kind: .tokenInvalid, error: "invalid_grant", aadstsCode: 70008, traceID: "t1", correlationID: "c1", seenAt: seen)
        let first = try await fixture.store.reportIncident(report)
        #expect(first.isNew)
        var again = report
        again.seenAt = seen + 60
        again.traceID = "t2"
        let second = try await fixture.store.reportIncident(again)
        #expect(!second.isNew, "a repeated failure must not open a second incident")
        #expect(second.incident.id == first.incident.id)
        #expect(second.incident.occurrences == 2)
        #expect(second.incident.lastSeenAt == seen + 60)
        #expect(second.incident.firstSeenAt == seen)
        #expect(second.incident.traceID == "t2")
        #expect(try await fixture.store.openIncidents().map(\.id) == [first.incident.id])
        try await fixture.store.resolveIncidents(grantID: ews.id, at: seen + 120)
        #expect(try await fixture.store.openIncidents().isEmpty)
        #expect(try await fixture.store.incidents(grantID: ews.id).first?.resolvedAt == seen + 120)
        #expect(try await fixture.store.reportIncident(report).isNew, "after renewal a new failure is a new incident")
    }

    @Test func directoryBatchesCountAddsChangesAndRemovals() async throws {
        let fixture = try StoreFixture()
        let tenant = try await fixture.store.upsertTenant(id: UUID().uuidString, domain: "contoso.com", displayName: nil)
        var batch = DirectoryBatch()
        batch.upsertedUsers = [
            DirectoryUser(id: "u1", userPrincipalName: "adele@contoso.com", displayName: "Adele", mail: "adele@contoso.com", accountEnabled: true),
            DirectoryUser(id: "u2", userPrincipalName: "bob@contoso.com", displayName: "Bob", mail: nil, accountEnabled: false),
        ]
        batch.upsertedGroups = [DirectoryGroup(id: "g1", displayName: "Finance", mail: nil), DirectoryGroup(id: "g2", displayName: "All", mail: nil)]
        batch.replacedMembershipsOfGroups = [
            "g1": [GroupMembership(groupID: "g1", memberID: "u1", memberType: .user)],
            "g2": [GroupMembership(groupID: "g2", memberID: "g1", memberType: .group), GroupMembership(groupID: "g2", memberID: "u2", memberType: .user)],
        ]
        batch.deltaLinks = ["users": "https://graph/users/delta?$deltatoken=a"]
        let first = try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: .now)
        #expect(first.usersAdded == 2 && first.groupsAdded == 2 && first.membershipsAdded == 3)
        #expect(try await fixture.store.deltaLink(tenantID: tenant.id, resource: "users") == "https://graph/users/delta?$deltatoken=a")

        let unchanged = try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: .now)
        #expect(unchanged == DirectoryChangeCounts(), "re-applying the same data changes nothing")

        var next = DirectoryBatch()
        next.upsertedUsers = [DirectoryUser(id: "u1", userPrincipalName: "adele@contoso.com", displayName: "Adele Vance", mail: "adele@contoso.com", accountEnabled: true)]
        next.removedUserIDs = ["u2"]
        next.removedGroupIDs = ["g1"]
        let second = try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: next, at: .now)
        #expect(second.usersChanged == 1 && second.usersRemoved == 1 && second.groupsRemoved == 1)
        #expect(second.membershipsRemoved == 3, "u2's membership, g1's member and g1 as a member of g2")
        #expect(try await fixture.store.directoryUsers(tenantID: tenant.id).map(\.displayName) == ["Adele Vance"])
        #expect(try await fixture.store.directoryUser(tenantID: tenant.id, userPrincipalName: "ADELE@contoso.com")?.id == "u1")
        #expect(try await fixture.store.directoryGroups(tenantID: tenant.id).map(\.id) == ["g2"])
        #expect(try await fixture.store.groupMemberships(tenantID: tenant.id).isEmpty)
        try await fixture.store.clearDeltaLinks(tenantID: tenant.id)
        #expect(try await fixture.store.deltaLink(tenantID: tenant.id, resource: "users") == nil)
    }

    @Test func selectedTargetsAndSyncRuns() async throws {
        let fixture = try StoreFixture()
        let tenant = try await fixture.store.upsertTenant(id: UUID().uuidString, domain: "contoso.com", displayName: nil)
        let added = Date(timeIntervalSince1970: 1_800_000_000)
        try await fixture.store.addSelectedTargets([
            SelectedTarget(tenantID: tenant.id, userPrincipalName: "b@contoso.com", userID: "u2", source: .group, addedAt: added),
            SelectedTarget(tenantID: tenant.id, userPrincipalName: "a@contoso.com", userID: "u1", source: .upn, addedAt: added),
        ])
        #expect(try await fixture.store.selectedTargets(tenantID: tenant.id).map(\.userPrincipalName) == ["a@contoso.com", "b@contoso.com"])
        try await fixture.store.removeSelectedTargets(tenantID: tenant.id, userPrincipalNames: ["A@contoso.com"])
        #expect(try await fixture.store.selectedTargets(tenantID: tenant.id).map(\.source) == [.group])

        let run = try await fixture.store.startSyncRun(tenantID: tenant.id, service: .onedrive, trigger: .provision, mode: .full, at: added)
        #expect(run.state == .running)
        var counts = DirectoryChangeCounts()
        counts.usersAdded = 5
        counts.membershipsAdded = 7
        try await fixture.store.recordSyncProgress(runID: run.id, pages: 3, counts: counts)
        try await fixture.store.finishSyncRun(runID: run.id, state: .failed, error: "malformed page", at: added + 10)
        let finished = try #require(try await fixture.store.syncRun(id: run.id))
        #expect(finished.pages == 3 && finished.counts == counts && finished.state == .failed)
        #expect(finished.error == "malformed page" && finished.finishedAt == added + 10 && finished.service == .onedrive)
        #expect(try await fixture.store.syncRuns(tenantID: tenant.id, limit: 5) == [finished])
    }

    @Test func alertsAndTheirDeliveries() async throws {
        let fixture = try StoreFixture()
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let alert = try await fixture.store.enqueueAlert(
            NewAlert(kind: "token-invalid", severity: .critical, tenantID: "t", accountID: 1, grantID: 2, subject: "s", body: "b", facts: AlertFacts(aadstsCode: 70008)),
            channels: ["journal", "smtp", "hook:pager"], at: at
        )
        #expect(try await fixture.store.alert(id: alert.id) == alert)
        #expect(try await fixture.store.deliveries(alertID: alert.id).map(\.channel) == ["hook:pager", "journal", "smtp"])
        #expect(try await fixture.store.dueDeliveries(at: at, limit: 10).count == 3)
        try await fixture.store.markDelivered(alertID: alert.id, channel: "journal", at: at)
        try await fixture.store.markDeliveryFailed(alertID: alert.id, channel: "smtp", error: "connection refused", nextAttemptAt: at + 30)
        #expect(try await fixture.store.dueDeliveries(at: at, limit: 10).map(\.channel) == ["hook:pager"])
        #expect(try await fixture.store.nextDeliveryDate() == at)
        try await fixture.store.markDelivered(alertID: alert.id, channel: "hook:pager", at: at)
        #expect(try await fixture.store.nextDeliveryDate() == at + 30)
        let smtp = try #require(try await fixture.store.deliveries(alertID: alert.id).first { $0.channel == "smtp" })
        #expect(smtp.attempts == 1 && smtp.lastError == "connection refused" && smtp.state == .pending)
        try await fixture.store.acknowledgeAlert(id: alert.id, at: at + 60)
        #expect(try await fixture.store.alerts(includeAcknowledged: false, limit: 10).isEmpty)
        #expect(try await fixture.store.alerts(includeAcknowledged: true, limit: 10).first?.acknowledgedAt == at + 60)
    }
}

@Suite("Outbox observation")
struct OutboxObservationTests {
    /// The dispatcher sleeps until this fires; it must fire for every enqueued alert.
    @Test func enqueueingAnAlertNotifiesTheObserver() async throws {
        let fixture = try StoreFixture()
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let observation = fixture.store.observeAlertOutbox { continuation.yield() }
        defer { observation.cancel() }
        _ = try await fixture.store.enqueueAlert(NewAlert(kind: "account-protected", severity: .info, subject: "s", body: "b"), channels: ["journal"], at: .now)
        let notified = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                var iterator = stream.makeAsyncIterator()
                return await iterator.next() != nil
            }
            group.addTask { try? await Task.sleep(for: .seconds(5)); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(notified, "no change notification after enqueueAlert: the dispatcher would never wake")
    }
}
