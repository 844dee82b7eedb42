import MicrosoftCloud
import TenantSyncCore

/// Continuous access evaluation: answering a resource's claims challenge.
///
/// tenantsync declares the `cp1` capability in every token request, so Graph, Exchange Online and the
/// Management API may refuse a token before it expires (Microsoft's "Continuous access evaluation") with a
/// `401` and `WWW-Authenticate: Bearer … error="insufficient_claims", claims="…"`. The answer is a token request
/// carrying those claims ("Claims challenges, claims requests and client capabilities"), then one retry. When
/// Microsoft refuses that request (user disabled, session revoked, interaction required) the refresher records
/// it like any refresh failure: the grant becomes invalid and an incident names the AADSTS code.
extension TokenRefresher {
    /// A token of the grant requested with the challenge's claims.
    ///
    /// The grant is refreshed under its lock with the claims unless a concurrent refresh already replaced the
    /// rejected token's generation.
    /// - Throws: `grantInvalid` when Microsoft refused the claims request for good; `tokenUnavailable` and the like otherwise.
    public func answerClaimsChallenge(grantID: Int64, claims: String) async throws -> Secret {
        guard let snapshot = try await storage.tokenSnapshot(grantID: grantID) else {
            throw TenantSyncError(.grantNotFound, "No grant \(grantID).", context: ["grant.id": "\(grantID)"])
        }
        logger.notice(
            "A resource refused the access token with a claims challenge; requesting a token with its claims",
            metadata: ["grant.id": "\(grantID)", "grant.name": "\(snapshot.grant.name)", "account.id": "\(snapshot.grant.accountID)"]
        )
        await refreshIfDue(grantID: grantID, onDemand: false, forcedBelow: snapshot.generation + 1, claims: claims)
        return try await accessToken(grantID: grantID)
    }

    /// Runs `body` with the grant's access token; a claims challenge is answered and `body` runs once more.
    ///
    /// Every caller of Exchange Online, the Management API or Graph with a stored grant's token goes through this:
    /// declaring `cp1` obliges the client to handle challenges on every call.
    public func withAccessToken<T: Sendable>(grantID: Int64, _ body: (Secret) async throws -> T) async throws -> T {
        let token = try await accessToken(grantID: grantID)
        do {
            return try await body(token)
        } catch let error as any ClaimsChallengeCarrying {
            guard let challenge = error.claimsChallenge else { throw error }
            return try await body(try await answerClaimsChallenge(grantID: grantID, claims: challenge.claims))
        }
    }
}
