/// Continuous access evaluation events: an administrator revokes sign-in sessions.
extension M365Emulator {
    /// Revokes sessions: the `cp1` access tokens issued before now get a claims challenge from Graph, Exchange
    /// and the Management API; tokens of clients without `cp1` keep working until they expire.
    ///
    /// - Parameters:
    ///   - user: a user (id or UPN) whose delegated sessions end; with neither `user` nor `appId`, every session of the tenant.
    ///   - appId: an app whose app-only tokens are challenged (a workload-identity event).
    ///   - refreshTokens: also revoke the user's refresh tokens (AADSTS50173), as Graph's `revokeSignInSessions` and
    ///     disabling the user do; the token request answering the challenge is then refused. `false` models an
    ///     event the new token satisfies (a policy or location change).
    /// - Returns: how many refresh tokens were revoked.
    @discardableResult
    public func revokeSessions(tenant: String, user: String? = nil, appId: String? = nil, refreshTokens: Bool = true) throws(EmulatorError) -> Int {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            var userIndex: Int?
            if let user {
                guard let index = w.tenants[t].directory.userIndex(idOrUPN: user) else { throw .notFound("No user '\(user)'") }
                userIndex = index
            }
            let key = World.sessionKey(tenant: t, user: userIndex, appID: user == nil ? appId : nil)
            let now = w.now()
            w.sessionRevocations[key] = SessionRevocation(serial: w.issuedTokens, at: now)
            guard refreshTokens else { return 0 }
            var revoked = 0
            for (token, record) in w.refreshTokens where record.tenant == t && record.revokedCode == nil
                && (userIndex == nil || record.user == userIndex) && (appId == nil || record.appID.lowercased() == appId!.lowercased()) {
                w.refreshTokens[token]!.revokedCode = 50173
                w.refreshTokens[token]!.revokedAt = now
                revoked += 1
            }
            return revoked
        }
    }
}
