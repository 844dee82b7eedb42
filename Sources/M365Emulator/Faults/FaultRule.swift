/// A fault to inject into matching requests, N times or with a probability.
public struct FaultRule: Sendable, Codable, Equatable {
    /// What the emulator does instead of (or before) answering normally.
    public enum Kind: String, Sendable, Codable {
        /// Answer `status` (429, 500, 503, 504 …) with the service's error body; 429/503 carry `Retry-After`.
        case status
        /// Wait `delayMilliseconds`, then answer normally.
        case delay
        /// Close the connection in the middle of the response.
        case drop
        /// Answer normally but cut the JSON body short, so it does not parse.
        case malformedJSON
        /// Answer a delta request with 410 Gone and a `Location` to restart from (sync state reset).
        case gone
    }

    /// Assigned by the emulator.
    public var id: Int?
    /// Tenant id or domain; nil matches every tenant (and requests with no tenant).
    public var tenant: String?
    /// Matches when the request path contains this text (`*` or empty matches all). E.g. `/oauth2/v2.0/token`, `/users/delta`.
    public var path: String
    public var kind: Kind
    public var status: Int?
    public var retryAfterSeconds: Int?
    public var delayMilliseconds: Int?
    /// How many matching requests to affect; nil means every one.
    public var times: Int?
    /// Chance (0...1) that a matching request is affected; default 1.
    public var probability: Double?

    public init(tenant: String? = nil, path: String, kind: Kind, status: Int? = nil, retryAfterSeconds: Int? = nil,
                delayMilliseconds: Int? = nil, times: Int? = nil, probability: Double? = nil) {
        self.tenant = tenant
        self.path = path
        self.kind = kind
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
        self.delayMilliseconds = delayMilliseconds
        self.times = times
        self.probability = probability
    }

    func matches(path requestPath: String, tenantID: String?, tenantDomain: String?) -> Bool {
        if let tenant {
            let t = tenant.lowercased()
            guard t == tenantID || t == tenantDomain else { return false }
        }
        return path.isEmpty || path == "*" || requestPath.contains(path)
    }
}
