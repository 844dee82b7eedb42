import Foundation
import MicrosoftCloud
import Testing

@Suite("Claims challenges and client capabilities (continuous access evaluation)")
struct ClaimsChallengeTests {
    /// The example of Microsoft's "Claims challenges, claims requests and client capabilities".
    static let documented = #"Bearer authorization_uri="https://login.windows.net/common/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=""#

    @Test("The documented challenge header yields its decoded claims")
    func documentedHeader() throws {
        let challenge = try #require(ClaimsChallenge.parse(wwwAuthenticate: Self.documented))
        #expect(challenge.claims == #"{"access_token":{"nbf":{"essential":true, "value":"1604106651"}}}"#)
    }

    @Test("Not a claims challenge: invalid_token, no claims, claims that are not base64 JSON")
    func notChallenges() {
        #expect(ClaimsChallenge.parse(wwwAuthenticate: #"Bearer error="invalid_token""#) == nil)
        #expect(ClaimsChallenge.parse(wwwAuthenticate: #"Bearer error="insufficient_claims""#) == nil)
        #expect(ClaimsChallenge.parse(wwwAuthenticate: #"Bearer error="insufficient_claims", claims="!!!""#) == nil)
        let notJSON = Data("not json".utf8).base64EncodedString()
        #expect(ClaimsChallenge.parse(wwwAuthenticate: "Bearer error=\"insufficient_claims\", claims=\"\(notJSON)\"") == nil)
    }

    @Test("Every token request declares cp1; an answer merges the challenge's claims with it")
    func claimsParameter() throws {
        let plain = ClientCapabilities.claimsParameter()
        #expect(plain == #"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#)
        let challenge = try #require(ClaimsChallenge.parse(wwwAuthenticate: Self.documented))
        let merged = ClientCapabilities.claimsParameter(answering: challenge)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(merged.utf8)) as? [String: Any])
        let accessToken = try #require(object["access_token"] as? [String: Any])
        #expect((accessToken["nbf"] as? [String: Any])?["value"] as? String == "1604106651")
        #expect((accessToken["xms_cc"] as? [String: Any])?["values"] as? [String] == ["cp1"])
    }
}
