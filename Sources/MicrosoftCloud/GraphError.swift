import TenantSyncCore

/// A failed Microsoft Graph call, classified for the caller.
public struct GraphError: Error, Sendable, CustomStringConvertible, ClaimsChallengeCarrying {
    public enum Kind: String, Sendable {
        /// 401: the access token was refused (expired, revoked, wrong audience).
        case unauthorized
        /// 403: the app lacks a permission (`Authorization_RequestDenied`).
        case forbidden
        /// 404: the object does not exist.
        case notFound
        /// 410 on a delta link: the sync state is gone; start over with a full sync.
        case deltaReset
        /// 429, 5xx, timeouts, dropped connections: worth retrying.
        case transient
        /// 400 and other client errors: retrying will not help.
        case badRequest
        /// 402: the app's metered API budget is exhausted.
        case paymentRequired
        /// The body is not the JSON Graph promises.
        case malformedResponse
    }

    public var kind: Kind
    public var status: Int?
    /// Graph's `error.code`, e.g. `InvalidAuthenticationToken`.
    public var code: String?
    public var message: String
    /// Graph's `innerError.request-id`, for Microsoft support.
    public var requestID: String?
    public var retryAfter: Duration?
    /// The request path without its query (never a token).
    public var path: String
    /// A 401's claims challenge (continuous access evaluation): ask for a token with these claims and retry once.
    public var claimsChallenge: ClaimsChallenge?

    public init(kind: Kind, status: Int?, code: String?, message: String, requestID: String?, retryAfter: Duration?, path: String) {
        self.kind = kind
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
        self.retryAfter = retryAfter
        self.path = path
    }

    public var description: String {
        var text = "Graph \(path): \(message)"
        if let status { text += " (HTTP \(status)\(code.map { ", \($0)" } ?? ""))" }
        if let requestID { text += " request-id \(requestID)" }
        return text
    }
}
