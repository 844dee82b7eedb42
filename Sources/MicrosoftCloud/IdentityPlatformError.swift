import TenantSyncCore

/// A token request the Microsoft identity platform refused or that never got an answer.
///
/// Carries what Microsoft's error JSON says (`error`, `error_codes`, `suberror`,
/// `trace_id`, `correlation_id`) and the `Retry-After` header. Never a token,
/// a secret or the request body; the description text is kept for operators
/// but never used to decide anything.
public struct IdentityPlatformError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was being asked, e.g. `refresh_token`, `client_credentials`, `devicecode`.
    public var operation: String
    public var httpStatus: Int?
    /// The OAuth `error` field.
    public var error: String?
    /// Microsoft's `error_description` (human text: shown, never classified).
    public var errorDescription: String?
    /// The AADSTS codes.
    public var errorCodes: [Int]
    public var suberror: String?
    public var traceID: String?
    public var correlationID: String?
    public var retryAfter: Duration?
    /// Set when no usable HTTP answer arrived.
    public var transport: TokenFailure.Transport?
    /// Where a 3xx answer pointed (without its query): redirects of token requests are never followed.
    public var redirectLocation: String?

    public init(
        operation: String, httpStatus: Int? = nil, error: String? = nil, errorDescription: String? = nil, errorCodes: [Int] = [],
        suberror: String? = nil, traceID: String? = nil, correlationID: String? = nil, retryAfter: Duration? = nil,
        transport: TokenFailure.Transport? = nil, redirectLocation: String? = nil
    ) {
        self.operation = operation
        self.httpStatus = httpStatus
        self.error = error
        self.errorDescription = errorDescription
        self.errorCodes = errorCodes
        self.suberror = suberror
        self.traceID = traceID
        self.correlationID = correlationID
        self.retryAfter = retryAfter
        self.transport = transport
        self.redirectLocation = redirectLocation
    }

    /// The secret-free facts Core classifies.
    public var failure: TokenFailure {
        TokenFailure(
            httpStatus: httpStatus, error: error, errorCodes: errorCodes, suberror: suberror,
            traceID: traceID, correlationID: correlationID, retryAfter: retryAfter, transport: transport
        )
    }

    public var description: String {
        var text = "The Microsoft identity platform refused the \(operation) request: \(failure.summary)"
        if let httpStatus, (300..<400).contains(httpStatus) {
            text += ", a redirect to \(redirectLocation ?? "no Location") that is not followed (check [microsoft] authority and any proxy)"
        }
        if let traceID { text += " (trace id \(traceID)" + (correlationID.map { ", correlation id \($0)" } ?? "") + ")" }
        return text + "."
    }
}
