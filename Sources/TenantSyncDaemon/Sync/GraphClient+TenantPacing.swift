import MicrosoftCloud
import TenantSyncCore

extension GraphClient {
    /// This client for requests on behalf of one tenant: paced in that tenant's resource-unit bucket (and the app's),
    /// sized by the users the store holds for it, and sending `priority` as `x-ms-throttle-priority`.
    ///
    /// Every Graph request made with the product's app counts against the same budgets as a sync's, whether a sync,
    /// provisioning or an operator's `targets` call sends it; a request that bypassed the pacer could be the one that
    /// throttles the scanner, and would not wait out a 429 its tenant is pausing for.
    func paced(tenantID: String, priority: GraphPacing.Priority, directory: any DirectoryStore) async throws -> GraphClient {
        paced(GraphPacing(tenantID: tenantID, users: try await directory.directoryUserCount(tenantID: tenantID), priority: priority))
    }
}
