import Foundation

/// The `claims` parameter of a token request (Microsoft's "Claims challenges, claims requests and client capabilities").
///
/// `{"access_token":{"xms_cc":{"values":["cp1"]}}}` declares the continuous-access-evaluation capability;
/// `{"access_token":{"nbf":{"essential":true,"value":"…"}}}` (merged with it) answers a claims challenge.
struct ClaimsRequest {
    var declaresCP1: Bool
    var answersChallenge: Bool

    /// Parses the parameter; text that is not a JSON object is refused as Microsoft does (AADSTS9002313, malformed request).
    static func parse(_ text: String) throws(AADError) -> ClaimsRequest {
        guard let data = text.data(using: .utf8), let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw AADError("invalid_request", 9002313, "Invalid request. Request is malformed or invalid: the claims parameter is not a JSON object.")
        }
        let accessToken = root["access_token"] as? [String: Any] ?? [:]
        let capabilities = (accessToken["xms_cc"] as? [String: Any])?["values"] as? [String] ?? []
        return ClaimsRequest(declaresCP1: capabilities.contains("cp1"), answersChallenge: accessToken["nbf"] != nil)
    }

    /// Whether a token request's form declares `cp1` (a malformed `claims` never gets this far).
    static func declaresCP1(_ form: [String: String]) -> Bool {
        form["claims"].flatMap { try? parse($0) }?.declaresCP1 ?? false
    }

    /// The `WWW-Authenticate` value of a claims challenge, as Graph sends it.
    static func challengeHeader(claims: String) -> String {
        "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", "
            + "client_id=\"00000003-0000-0000-c000-000000000000\", error=\"insufficient_claims\", "
            + "claims=\"\(Data(claims.utf8).base64EncodedString())\""
    }
}

/// A session revocation continuous access evaluation enforces: capable tokens issued up to `serial` are challenged.
struct SessionRevocation {
    var serial: Int
    var at: Double
}

extension World {
    /// The key of the sessions of a user (delegated tokens), of an app (app-only tokens) or of the whole tenant.
    static func sessionKey(tenant: Int, user: Int?, appID: String?) -> String {
        if let user { return "\(tenant)/user/\(user)" }
        if let appID { return "\(tenant)/app/\(appID.lowercased())" }
        return "\(tenant)/all"
    }

    /// When a session the token belongs to was revoked after the token was issued; `nil` when it stands.
    ///
    /// Only `cp1` tokens are challenged: a client without the capability keeps its token until it expires, as
    /// Microsoft documents for clients that do not take part in continuous access evaluation.
    func sessionRevocation(of record: AccessTokenRecord) -> Double? {
        guard record.capable else { return nil }
        let own = record.appOnly
            ? Self.sessionKey(tenant: record.tenant, user: nil, appID: record.appID)
            : Self.sessionKey(tenant: record.tenant, user: record.user, appID: nil)
        for key in [own, Self.sessionKey(tenant: record.tenant, user: nil, appID: nil)] {
            if let revocation = sessionRevocations[key], record.serial <= revocation.serial { return revocation.at }
        }
        return nil
    }
}
