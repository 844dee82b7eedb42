import Foundation

/// A claims challenge from a resource: `401` with `WWW-Authenticate: Bearer … error="insufficient_claims", claims="<base64>"`.
///
/// Microsoft's "Claims challenges, claims requests and client capabilities": a client that declares the `cp1`
/// capability gets access tokens that continuous access evaluation ("Continuous access evaluation") can revoke
/// before they expire (a user disabled, a session revoked, a password changed, a network policy); the resource
/// then answers with a challenge whose `claims` the client must send back in its next token request. The
/// claims are JSON, never a secret (`{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}`).
public struct ClaimsChallenge: Sendable, Equatable, CustomStringConvertible {
    /// The decoded claims JSON, to be passed as the token request's `claims` (merged with the client capabilities).
    public var claims: String

    public init(claims: String) { self.claims = claims }

    /// The most bytes of claims accepted: a real challenge is a few hundred.
    static let maximumClaimsBytes = 16 * 1024

    /// The challenge in a `WWW-Authenticate` header, or `nil` when it is not an `insufficient_claims` challenge
    /// (an expired or invalid token is refreshed the ordinary way).
    public static func parse(wwwAuthenticate header: String) -> ClaimsChallenge? {
        let parameters = authParameters(header)
        guard parameters["error"] == "insufficient_claims", let encoded = parameters["claims"], encoded.utf8.count <= maximumClaimsBytes * 2
        else { return nil }
        // Base64 as Microsoft sends it; base64url and missing padding are accepted too.
        var text = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text), data.count <= maximumClaimsBytes,
              (try? JSONSerialization.jsonObject(with: data)) is [String: Any],
              let claims = String(data: data, encoding: .utf8)
        else { return nil }
        return ClaimsChallenge(claims: claims)
    }

    /// The challenge among a response's headers (any `WWW-Authenticate` line).
    public static func find(in headers: some Sequence<(name: String, value: String)>) -> ClaimsChallenge? {
        for header in headers where header.name.lowercased() == "www-authenticate" {
            if let challenge = parse(wwwAuthenticate: header.value) { return challenge }
        }
        return nil
    }

    /// `key="value"` and `key=token` pairs of a `Bearer` challenge (RFC 9110 §11.2), keys lowercased.
    static func authParameters(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(header)
        if rest.lowercased().hasPrefix("bearer") { rest = rest.dropFirst("bearer".count) }
        while true {
            rest = rest.drop { $0 == " " || $0 == "," || $0 == "\t" }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...].drop { $0 == " " }
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(character); escaped = false; continue }
                    if character == "\\" { escaped = true; continue }
                    if character == "\"" { break }
                    value.append(character)
                }
            } else {
                value = String(rest.prefix { $0 != "," && $0 != " " })
                rest = rest.dropFirst(value.count)
            }
            if result[key] == nil { result[key] = value }
        }
        return result
    }

    /// The claims, which name no secret: safe to print.
    public var description: String { claims }
}

/// An error of a call with an access token that may carry a claims challenge.
public protocol ClaimsChallengeCarrying: Error {
    /// Set when the resource refused the token with `insufficient_claims`.
    var claimsChallenge: ClaimsChallenge? { get }
}
