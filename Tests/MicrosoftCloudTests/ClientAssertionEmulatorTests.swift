import AsyncHTTPClient
import Credentials
import Foundation
import M365Emulator
import NIOCore
import Testing
import TestSupport
import TenantSyncCore
@testable import MicrosoftCloud

/// Certificate credentials end to end: real RSA keys and X.509 certificates, PS256 assertions made by the
/// client, verified by the emulator against the certificate registered for the app.
@Suite("Client assertions (certificate credentials) against the emulator", .serialized)
struct ClientAssertionEmulatorTests {
    typealias Context = IdentityPlatformClientEmulatorTests.Context
    static let graph = "https://graph.microsoft.com/.default"

    static func certificate(_ made: TestCertificate) throws -> ClientCertificate {
        try ClientCertificate(certificatePEM: made.certificatePEM, privateKeyPEM: Secret(made.privateKeyPEM))
    }

    /// Posts a client-credentials request with a hand-made assertion, as a misbehaving client would.
    static func post(_ c: Context, assertion: String) async throws -> IdentityPlatformError {
        var request = HTTPClientRequest(url: c.client.endpoints.tokenURL(tenant: c.tenant.id))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode([
            ("client_id", EmulatorDefaults.clientID), ("grant_type", "client_credentials"), ("scope", graph),
            ("client_assertion_type", ClientAssertion.type), ("client_assertion", assertion),
        ])))
        let response = try await c.http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return IdentityPlatformClient.error(
            operation: "client_credentials", status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
            body: Data(body.readableBytesView)
        )
    }

    static func decode(_ segment: Substring) throws -> [String: Any] {
        var text = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        let data = try #require(Data(base64Encoded: text))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("The assertion is PS256 with x5t#S256, aud = token endpoint, iss = sub = client id, a fresh jti and a 5-minute life")
    func assertionShape() throws {
        let certificate = try Self.certificate(TestCertificate())
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let audience = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        let first = try ClientAssertion.make(certificate: certificate, clientID: "app-id", audience: audience, now: now)
        let second = try ClientAssertion.make(certificate: certificate, clientID: "app-id", audience: audience, now: now)
        let parts = first.reveal.split(separator: ".")
        #expect(parts.count == 3)
        let header = try Self.decode(parts[0]), claims = try Self.decode(parts[1])
        #expect(header["alg"] as? String == "PS256" && header["typ"] as? String == "JWT")
        #expect(header["x5t#S256"] as? String == certificate.thumbprintSHA256)
        #expect(claims["aud"] as? String == audience)
        #expect(claims["iss"] as? String == "app-id" && claims["sub"] as? String == "app-id")
        #expect(claims["nbf"] as? Int == 1_800_000_000 && claims["iat"] as? Int == 1_800_000_000)
        #expect(claims["exp"] as? Int == 1_800_000_300)
        let otherClaims = try Self.decode(second.reveal.split(separator: ".")[1])
        #expect(claims["jti"] as? String != nil && claims["jti"] as? String != otherClaims["jti"] as? String, "a new jti per assertion")
        #expect("\(first)" == "<redacted>")
    }

    @Test("A certificate client gets app-only tokens; with the certificate removed it is AADSTS700027; a second certificate keeps working")
    func certificateClientGetsTokens() async throws {
        try await Self.run { c in
            let old = try TestCertificate(), new = try TestCertificate()
            let oldThumbprint = try c.emulator.addCertificate(tenant: c.tenant.id, appId: EmulatorDefaults.clientID, pem: old.certificatePEM)
            let client = OAuthClientCredentials(clientID: EmulatorDefaults.clientID, certificate: try Self.certificate(old))
            let tokens = try await c.client.clientCredentials(tenant: c.tenant.id, client: client, scope: Self.graph)
            #expect(!tokens.accessToken.isEmpty)
            // Twice in a row: every request signs a new assertion (a replayed one would be refused).
            _ = try await c.client.clientCredentials(tenant: c.tenant.id, client: client, scope: Self.graph)

            // Rotation: both certificates valid at once, then the old one removed.
            try c.emulator.addCertificate(tenant: c.tenant.id, appId: EmulatorDefaults.clientID, pem: new.certificatePEM)
            let rotated = OAuthClientCredentials(clientID: EmulatorDefaults.clientID, certificate: try Self.certificate(new))
            _ = try await c.client.clientCredentials(tenant: c.tenant.id, client: rotated, scope: Self.graph)
            _ = try await c.client.clientCredentials(tenant: c.tenant.id, client: client, scope: Self.graph)
            try c.emulator.removeCertificate(tenant: c.tenant.id, appId: EmulatorDefaults.clientID, thumbprint: oldThumbprint)
            let error = try await #require(throws: IdentityPlatformError.self) {
                try await c.client.clientCredentials(tenant: c.tenant.id, client: client, scope: Self.graph)
            }
            #expect(error.httpStatus == 401 && error.error == "invalid_client" && error.errorCodes == [700027])
            #expect(TokenErrorClassifier.classify(error.failure) == .permanent(.clientCredentialsInvalid))
            _ = try await c.client.clientCredentials(tenant: c.tenant.id, client: rotated, scope: Self.graph)
        }
    }

    enum Bad: String, CaseIterable, Sendable {
        case wrongKey, expired, replayed, unknownThumbprint, wrongAudience, wrongIssuer, unsupportedAlgorithm
    }

    @Test("Each bad assertion is refused with Microsoft's AADSTS code", arguments: Bad.allCases)
    func badAssertions(_ bad: Bad) async throws {
        try await Self.run { c in
            let registered = try TestCertificate(), stranger = try Self.certificate(TestCertificate())
            try c.emulator.addCertificate(tenant: c.tenant.id, appId: EmulatorDefaults.clientID, pem: registered.certificatePEM)
            let certificate = try Self.certificate(registered)
            let audience = c.client.endpoints.tokenURL(tenant: c.tenant.id)
            func make(_ certificate: ClientCertificate, audience: String = audience, clientID: String = EmulatorDefaults.clientID,
                      now: Date = Date(), id: String = UUID().uuidString) throws -> String {
                try ClientAssertion.make(certificate: certificate, clientID: clientID, audience: audience, now: now, id: id).reveal
            }
            let expected: Int
            // Words of the reason Microsoft gives, where one code covers several causes.
            var reason: String?
            var assertion: String
            switch bad {
            case .wrongKey:
                // Names the registered certificate but is signed by another key.
                let good = try make(certificate).split(separator: ".")
                let input = "\(good[0]).\(good[1])"
                assertion = input + "." + (try stranger.signPS256(Data(input.utf8))).base64EncodedString()
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
                expected = 700027
                reason = "did not match"
            case .expired:
                assertion = try make(certificate, now: Date().addingTimeInterval(-3_600))
                expected = 700024
            case .replayed:
                assertion = try make(certificate, id: "same-jti")
                let first = try await Self.post(c, assertion: assertion)
                #expect(first.httpStatus == 200, "the first use is accepted")
                expected = 50013
            case .unknownThumbprint:
                assertion = try make(stranger)
                expected = 700027
                reason = "key was not found"
            case .wrongAudience:
                assertion = try make(certificate, audience: "https://login.microsoftonline.com/common/oauth2/v2.0/token")
                expected = 700023
            case .wrongIssuer:
                assertion = try make(certificate, clientID: "00000000-0000-4000-8000-000000000000")
                expected = 700021
            case .unsupportedAlgorithm:
                // alg "none" with the signature stripped: never accepted.
                let good = try make(certificate).split(separator: ".")
                let header = Data(#"{"alg":"none","x5t#S256":"\#(certificate.thumbprintSHA256)"}"#.utf8).base64EncodedString()
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
                assertion = "\(header).\(good[1])."
                expected = 700027
                reason = "signing algorithm"
            }
            let error = try await Self.post(c, assertion: assertion)
            #expect(error.httpStatus == 401, "\(bad)")
            #expect(error.error == "invalid_client", "\(bad)")
            #expect(error.errorCodes == [expected], "\(bad): \(error.errorCodes)")
            #expect(TokenErrorClassifier.classify(error.failure) == .permanent(.clientCredentialsInvalid), "\(bad)")
            if let reason { #expect(error.errorDescription?.contains(reason) == true, "\(bad): \(error.errorDescription ?? "")") }
        }
    }

    static func run(_ body: @Sendable (Context) async throws -> Void) async throws {
        try await IdentityPlatformClientEmulatorTests.run(body)
    }
}
