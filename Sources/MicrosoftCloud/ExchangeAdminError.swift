/// A failed Exchange Online admin API call (`InvokeCommand`), classified for the caller.
public struct ExchangeAdminError: Error, Sendable, CustomStringConvertible, ClaimsChallengeCarrying {
    /// The cmdlet that failed, e.g. `New-InboundConnector`.
    public var cmdlet: String
    /// The HTTP status; `nil` when no answer came.
    public var status: Int?
    /// Exchange's `error.code`, e.g. `BadRequest` or `Forbidden`.
    public var code: String?
    /// The unwrapped message: `innererror.internalexception.message`, else `details[0].message`
    /// without its `|Type|` prefix, else `error.message` (which is always "Invalid Operation" for a failed cmdlet).
    public var message: String
    /// The .NET exception type Exchange names, e.g. `…ManagementObjectAlreadyExistsException`.
    public var type: String?
    /// A 401's claims challenge (continuous access evaluation): ask for a token with these claims and retry once.
    public var claimsChallenge: ClaimsChallenge?
    /// The answer's `Retry-After`, when it sent one.
    public var retryAfter: Duration?

    public init(cmdlet: String, status: Int?, code: String?, message: String, type: String? = nil, retryAfter: Duration? = nil) {
        self.cmdlet = cmdlet
        self.status = status
        self.code = code
        self.message = message
        self.type = type
        self.retryAfter = retryAfter
    }

    /// Worth retrying later (429, 5xx, no answer).
    public var isTransient: Bool { MicrosoftRetryPolicy.isTransient(status: status) }

    public var description: String {
        "Exchange Online \(cmdlet): \(message)" + (status.map { " (HTTP \($0)\(code.map { ", \($0)" } ?? ""))" } ?? "")
    }
}
