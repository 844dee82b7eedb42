import TenantSyncCore

/// Who is asking for tokens: an application id and, for a confidential client, its secret.
public struct OAuthClientCredentials: Sendable, Equatable {
    public var clientID: String
    /// Absent for a public client.
    public var clientSecret: Secret?

    public init(clientID: String, clientSecret: Secret?) {
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    var formPairs: [(String, String)] {
        var pairs = [("client_id", clientID)]
        if let clientSecret { pairs.append(("client_secret", clientSecret.reveal)) }
        return pairs
    }
}
