import _CryptoExtras
import Crypto
import Foundation

/// Client assertions (certificate credentials), verified for real.
///
/// Per Microsoft identity platform application authentication certificate credentials: the assertion is a
/// JWT signed with the private key of a certificate uploaded to the app; its header names the certificate
/// (`x5t#S256`, or the older SHA-1 `x5t`); `aud` is the token endpoint, `iss` = `sub` = the client id,
/// `jti` unique, `nbf`/`exp` bound its life. Each check fails with the AADSTS code Microsoft answers with.
extension World {
    /// Clock skew tolerated on `nbf` and `exp`, as Microsoft tolerates a few minutes.
    static let assertionClockSkew: Double = 300

    private struct AssertionHeader: Decodable {
        var alg: String?
        var x5t: String?
        var x5tS256: String?

        enum CodingKeys: String, CodingKey {
            case alg, x5t
            case x5tS256 = "x5t#S256"
        }
    }

    private struct AssertionClaims: Decodable {
        var aud: String?
        var iss: String?
        var sub: String?
        var jti: String?
        var nbf: Double?
        var exp: Double?
    }

    mutating func verifyClientAssertion(
        _ form: [String: String], app: AppState, tenant t: Int, tenantKey: String, baseURL: String, now: Double
    ) throws(AADError) {
        guard let type = form["client_assertion_type"] else { throw .missingParameter("client_assertion_type") }
        guard type == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" else { throw .assertionTypeUnsupported(type) }
        guard let assertion = form["client_assertion"], !assertion.isEmpty else { throw .missingParameter("client_assertion") }
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerBytes = Data(base64URLEncoded: String(parts[0])),
              let claimBytes = Data(base64URLEncoded: String(parts[1])),
              let signature = Data(base64URLEncoded: String(parts[2])),
              let header = try? JSONDecoder().decode(AssertionHeader.self, from: headerBytes),
              let claims = try? JSONDecoder().decode(AssertionClaims.self, from: claimBytes)
        else { throw .malformedAssertion() }
        let appID = app.registration.appId

        // The key: the certificate the header names must be one of the app's.
        let named = header.x5tS256 ?? header.x5t
        let certificate = app.keyCredentials.first { candidate in
            if let s256 = header.x5tS256 { return candidate.thumbprintSHA256 == s256 }
            return header.x5t.map { candidate.thumbprintSHA1 == $0 } ?? false
        }
        guard let certificate else { throw .assertionKeyNotFound(appID: appID, thumbprint: named ?? "(none)") }

        // The algorithm and the signature over `header.claims`.
        let signingInput = Data(parts[0].utf8) + Data(".".utf8) + Data(parts[1].utf8)
        let padding: _RSA.Signing.Padding
        switch header.alg {
        case "PS256": padding = .PSS
        case "RS256": padding = .insecurePKCS1v1_5
        default: throw .assertionAlgorithmUnsupported(header.alg ?? "(none)")
        }
        let valid = certificate.publicKey.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: signingInput), padding: padding
        )
        guard valid else { throw .assertionBadSignature(appID: appID) }
        guard now >= certificate.notValidBefore, now < certificate.notValidAfter else { throw .assertionKeyExpired(appID: appID) }

        // Who, for whom, when, and only once.
        guard claims.iss == appID || claims.iss?.lowercased() == appID.lowercased(),
              claims.sub?.lowercased() == appID.lowercased()
        else { throw .assertionAppMismatch() }
        let tenant = tenants[t]
        let audiences = Set([tenantKey, tenant.id, tenant.domain].map { "\(baseURL)/\($0)/oauth2/v2.0/token".lowercased() })
        guard let audience = claims.aud, audiences.contains(audience.lowercased()) else { throw .assertionAudienceMismatch() }
        guard let notBefore = claims.nbf, let expires = claims.exp else { throw .malformedAssertion() }
        guard now + Self.assertionClockSkew >= notBefore, now - Self.assertionClockSkew < expires else {
            throw .assertionOutsideValidity(notBefore: notBefore, expires: expires, now: now)
        }
        guard let id = claims.jti, !id.isEmpty else { throw .malformedAssertion() }
        seenAssertions = seenAssertions.filter { $0.value + Self.assertionClockSkew > now }
        let key = "\(appID.lowercased()) \(id)"
        guard seenAssertions[key] == nil else { throw .assertionReplayed(id) }
        seenAssertions[key] = expires
        tenant.count("token.client_assertion")
    }
}

extension Data {
    /// Decodes base64url with or without padding (RFC 4648 §5).
    init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
