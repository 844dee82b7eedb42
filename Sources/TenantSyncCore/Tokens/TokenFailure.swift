/// What is known about one failed token request, stripped of anything secret.
///
/// The adapter that talks to Microsoft turns its own error into this value so
/// that classification stays pure and testable. It never holds a token or the
/// human description text: classification must not depend on wording.
public struct TokenFailure: Sendable, Equatable {
    /// How the request failed before or without an OAuth answer.
    public enum Transport: String, Sendable, Equatable {
        /// No response within the request deadline.
        case timeout
        /// The connection could not be made or broke mid-request.
        case connectionFailed = "connection-failed"
        /// A response arrived but could not be understood (e.g. an HTML error page with status 200).
        case malformedResponse = "malformed-response"
    }

    /// The HTTP status, when a response arrived.
    public var httpStatus: Int?
    /// The OAuth `error` field, e.g. `invalid_grant`.
    public var error: String?
    /// The AADSTS codes from `error_codes`, e.g. `[70008]`.
    public var errorCodes: [Int]
    public var suberror: String?
    public var traceID: String?
    public var correlationID: String?
    /// Microsoft's `Retry-After`, when sent.
    public var retryAfter: Duration?
    public var transport: Transport?

    public init(
        httpStatus: Int? = nil, error: String? = nil, errorCodes: [Int] = [], suberror: String? = nil,
        traceID: String? = nil, correlationID: String? = nil, retryAfter: Duration? = nil, transport: Transport? = nil
    ) {
        self.httpStatus = httpStatus
        self.error = error
        self.errorCodes = errorCodes
        self.suberror = suberror
        self.traceID = traceID
        self.correlationID = correlationID
        self.retryAfter = retryAfter
        self.transport = transport
    }

    /// The first AADSTS code, the one operators look up.
    public var aadstsCode: Int? { errorCodes.first }

    /// A short, secret-free summary for logs and the stored refresh outcome,
    /// e.g. `HTTP 400 invalid_grant AADSTS70008`.
    public var summary: String {
        var parts: [String] = []
        if let transport { parts.append(transport.rawValue) }
        if let httpStatus { parts.append("HTTP \(httpStatus)") }
        if let error { parts.append(error) }
        parts.append(contentsOf: errorCodes.map { "AADSTS\($0)" })
        if let suberror { parts.append("suberror \(suberror)") }
        return parts.isEmpty ? "unknown failure" : parts.joined(separator: " ")
    }
}
