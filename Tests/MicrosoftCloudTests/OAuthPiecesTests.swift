import Foundation
import Testing
import TenantSyncCore
@testable import MicrosoftCloud

@Suite("OAuth request pieces")
struct OAuthPiecesTests {
    @Test("PKCE S256 matches RFC 7636 appendix B")
    func pkceKnownVector() {
        let pkce = PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(pkce.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(pkce.method == "S256")
    }

    @Test("A fresh PKCE verifier is 43 unreserved characters and never repeats")
    func pkceFresh() {
        let first = PKCE(), second = PKCE()
        #expect(first.verifier.reveal.count == 43)
        #expect(first.verifier.reveal.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(first.verifier != second.verifier)
        #expect("\(first.verifier)" == "<redacted>")
    }

    @Test("Form encoding escapes everything but unreserved characters and round-trips")
    func formEncoding() {
        let encoded = FormEncoding.encode([("scope", "https://graph.microsoft.com/.default offline_access"), ("x", "a+b&c=d~é")])
        #expect(encoded == "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default%20offline_access&x=a%2Bb%26c%3Dd~%C3%A9")
        let decoded = FormEncoding.decode(Substring(encoded))
        #expect(decoded.map(\.0) == ["scope", "x"])
        #expect(decoded.map(\.1) == ["https://graph.microsoft.com/.default offline_access", "a+b&c=d~é"])
        #expect(FormEncoding.decode("a=b+c")[0].1 == "b c")
    }

    @Test("Retry-After as seconds or as an HTTP date")
    func retryAfter() {
        #expect(IdentityPlatformClient.retryAfterDuration("120") == .seconds(120))
        #expect(IdentityPlatformClient.retryAfterDuration(" 7 ") == .seconds(7))
        #expect(IdentityPlatformClient.retryAfterDuration("-1") == nil)
        #expect(IdentityPlatformClient.retryAfterDuration("soon") == nil)
        let now = Date(timeIntervalSince1970: 1_445_412_480) // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(IdentityPlatformClient.retryAfterDuration("Wed, 21 Oct 2015 07:29:00 GMT", now: now) == .seconds(60))
    }

    @Test("Plain http is refused except on loopback", arguments: [
        ("https://login.microsoftonline.com", true), ("http://127.0.0.1:8080", true), ("http://[::1]:9/x", true),
        ("http://localhost", true), ("http://login.microsoftonline.com", false), ("http://127.0.0.1.evil.example", false),
        ("ftp://127.0.0.1", false),
    ])
    func secureTransport(url: String, accepted: Bool) {
        let result = Result { try IdentityPlatformClient.requireSecureTransport(url) }
        if accepted {
            #expect(throws: Never.self) { try result.get() }
        } else {
            #expect(throws: TenantSyncError.self) { try result.get() }
        }
    }

    @Test("The authorize URL carries the PKCE challenge, state and scopes")
    func authorizeURL() throws {
        let endpoints = MicrosoftEndpoints(authority: "http://127.0.0.1:1", graph: "http://127.0.0.1:1", outlook: "http://127.0.0.1:1")
        let pkce = PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        let url = IdentityPlatformClient.authorizationURL(
            endpoints: endpoints, tenant: "contoso.example", clientID: "app", redirectURI: "http://127.0.0.1:5000/callback",
            scopes: ["https://graph.microsoft.com/.default", "offline_access"], state: "s1", pkce: pkce, prompt: nil
        )
        let parts = url.split(separator: "?", maxSplits: 1)
        #expect(parts[0] == "http://127.0.0.1:1/contoso.example/oauth2/v2.0/authorize")
        let query = Dictionary(uniqueKeysWithValues: FormEncoding.decode(parts[1]))
        #expect(query["code_challenge"] == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(query["code_challenge_method"] == "S256")
        #expect(query["response_type"] == "code")
        #expect(query["state"] == "s1")
        #expect(query["redirect_uri"] == "http://127.0.0.1:5000/callback")
        #expect(query["scope"] == "https://graph.microsoft.com/.default offline_access")
        #expect(!url.contains("dBjftJeZ4CVP"), "the verifier must never be in the URL")
    }

    @Test("The error's description says what failed without any secret")
    func errorDescription() {
        let error = IdentityPlatformError(
            operation: "refresh_token", httpStatus: 400, error: "invalid_grant", errorDescription: "AADSTS70008: expired",
            errorCodes: [70008], traceID: "tr", correlationID: "co"
        )
        #expect("\(error)" == "The Microsoft identity platform refused the refresh_token request: HTTP 400 invalid_grant AADSTS70008 (trace id tr, correlation id co).")
        #expect(TokenErrorClassifier.classify(error.failure) == .permanent(.grantRevoked))
    }
}
