import Foundation

/// The client capabilities tenantsync declares in every token request: `cp1`, continuous access evaluation.
///
/// Per Microsoft's "Claims challenges, claims requests and client capabilities", a client declares
/// capabilities with the `claims` request parameter `{"access_token":{"xms_cc":{"values":["cp1"]}}}`, and
/// answers a claims challenge by sending the challenge's claims merged with that declaration. Declaring `cp1`
/// obliges the client to handle challenges on every resource call ("Continuous access evaluation"); Microsoft
/// may then issue tokens that live up to 28 hours, revoked early by a challenge.
public enum ClientCapabilities {
    /// The capability of continuous access evaluation.
    public static let continuousAccessEvaluation = "cp1"

    /// The `claims` parameter of a token request: the `cp1` declaration, merged into the challenge's claims if any.
    ///
    /// A challenge whose claims are not a JSON object (``ClaimsChallenge`` refuses those) yields the declaration alone.
    public static func claimsParameter(answering challenge: ClaimsChallenge? = nil) -> String {
        var root: [String: Any] = [:]
        if let challenge, let data = challenge.claims.data(using: .utf8),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            root = object
        }
        var accessToken = root["access_token"] as? [String: Any] ?? [:]
        accessToken["xms_cc"] = ["values": [continuousAccessEvaluation]]
        root["access_token"] = accessToken
        guard let data = try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8)
        else { return #"{"access_token":{"xms_cc":{"values":["cp1"]}}}"# }
        return text
    }
}
