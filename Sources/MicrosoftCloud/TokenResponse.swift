import Foundation
import TenantSyncCore

/// The success JSON of the token endpoint.
struct TokenResponse: Decodable {
    var tokenType: String?
    var scope: String?
    var expiresIn: FlexibleSeconds?
    var extExpiresIn: FlexibleSeconds?
    var refreshIn: FlexibleSeconds?
    var accessToken: String?
    var refreshToken: String?

    enum CodingKeys: String, CodingKey {
        case tokenType = "token_type", scope, expiresIn = "expires_in", extExpiresIn = "ext_expires_in"
        case refreshIn = "refresh_in", accessToken = "access_token", refreshToken = "refresh_token"
    }

    /// The token set, or `nil` when a required field is missing.
    func tokenSet(obtainedAt: Date, fallbackRefreshToken: Secret?, requestedScopes: [String]) -> TokenSet? {
        guard let accessToken, !accessToken.isEmpty, let expiresIn = expiresIn?.seconds, expiresIn > 0 else { return nil }
        if let tokenType, tokenType.lowercased() != "bearer" { return nil }
        let scopes = scope.map { $0.split(separator: " ").map(String.init) } ?? requestedScopes
        return TokenSet(
            accessToken: Secret(accessToken),
            refreshToken: refreshToken.map(Secret.init) ?? fallbackRefreshToken,
            scopes: scopes,
            obtainedAt: obtainedAt,
            expiresAt: obtainedAt.addingTimeInterval(TimeInterval(expiresIn)),
            refreshInAt: refreshIn?.seconds.map { obtainedAt.addingTimeInterval(TimeInterval($0)) }
        )
    }
}

/// The error JSON of the identity platform.
struct ErrorResponse: Decodable {
    var error: String?
    var errorDescription: String?
    var errorCodes: [Int]?
    var suberror: String?
    var traceID: String?
    var correlationID: String?

    enum CodingKeys: String, CodingKey {
        case error, errorDescription = "error_description", errorCodes = "error_codes", suberror
        case traceID = "trace_id", correlationID = "correlation_id"
    }
}

/// The `/devicecode` JSON.
struct DeviceCodeResponse: Decodable {
    var deviceCode: String
    var userCode: String
    var verificationURI: String?
    var verificationURL: String?
    var expiresIn: FlexibleSeconds
    var interval: FlexibleSeconds?
    var message: String?

    enum CodingKeys: String, CodingKey {
        case deviceCode = "device_code", userCode = "user_code", verificationURI = "verification_uri"
        case verificationURL = "verification_url", expiresIn = "expires_in", interval, message
    }
}

/// A number of seconds sent as a JSON number or, by the v1 endpoints, as a string.
struct FlexibleSeconds: Decodable {
    var seconds: Int?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            seconds = number
        } else if let number = try? container.decode(Double.self) {
            seconds = Int(number)
        } else {
            seconds = Int(try container.decode(String.self))
        }
    }
}
