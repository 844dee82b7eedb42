extension DirectoryStore {
    /// For a store without a lookup of its own: correct, but it reads every stored user id of the tenant.
    public func storedUserIDs(tenantID: String, among ids: Set<String>) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await directoryUserIDs(tenantID: tenantID).intersection(ids)
    }
}
