/// Identity and access throttling of Graph requests: two token buckets per request, usage bookkeeping, headers.
///
/// "Microsoft Graph service-specific throttling limits", section "Identity and access service limits":
/// per application+tenant pair S 3,500 / M 5,000 / L 8,000 resource units per 10 s (under 50 users, 50–500,
/// above 500), per application across all tenants 150,000 per 20 s; "The first limit to be reached triggers
/// throttling behavior". Responses carry `x-ms-resource-unit`, and `x-ms-throttle-limit-percentage` once more
/// than 0.8 of a limit is used; a throttled request gets 429 with `Retry-After` ("Microsoft Graph throttling
/// guidance"), `x-ms-throttle-scope` (`<Scope>/<Limit>/<ApplicationId>/<TenantId>`) and `x-ms-throttle-information`.
extension World {
    /// What the buckets decided about one request: its cost, the headers of an admitted answer, or the 429.
    struct ThrottleDecision {
        var cost: Int
        var headers: [(String, String)] = []
        var refusal: GraphError?
    }

    mutating func chargeGraphRequest(_ request: EmulatorRequest, path: [String], appID: String,
                                     tenant: EmulatedTenant, now: Double) -> ThrottleDecision {
        let cost = ResourceUnitCost.of(method: request.method, path: path, query: request.query)
        let priority = ThrottlePriority(header: request.header("x-ms-throttle-priority"))
        let key = appID.lowercased()
        var decision = ThrottleDecision(cost: cost)

        // A tenant with throttling off is metered (usage, x-ms-resource-unit) but never refused, and does not
        // draw on the per-app bucket: benchmarks switch it off to measure the loopback speed alone.
        guard tenant.settings.throttlingEnabled else {
            recordUsage(tenant: tenant, app: key, cost: cost, priority: priority, throttled: false)
            decision.headers = [("x-ms-resource-unit", String(cost))]
            return decision
        }
        let limit = tenant.resourceUnitsPer10Seconds
        var pair = tenant.buckets[key].flatMap { $0.capacity == limit ? $0 : nil }
            ?? TokenBucket(capacity: limit, window: 10, now: now)
        let appLimit = max(1, configuration.applicationResourceUnitsPer20Seconds)
        var app = applicationBuckets[key].flatMap { $0.capacity == appLimit ? $0 : nil }
            ?? TokenBucket(capacity: appLimit, window: 20, now: now)
        let pairOK = pair.canTake(cost, now: now)
        let appOK = app.canTake(cost, now: now)
        defer {
            tenant.buckets[key] = pair
            applicationBuckets[key] = app
        }
        guard pairOK, appOK else {
            recordUsage(tenant: tenant, app: key, cost: cost, priority: priority, throttled: true)
            tenant.count("graph.throttled")
            let scope = pairOK ? "Application" : "Tenant_Application"
            let retry = max(pairOK ? 0 : pair.secondsUntil(cost), appOK ? 0 : app.secondsUntil(cost))
            decision.refusal = GraphError(status: 429, code: "TooManyRequests", message: "Too many requests.", headers: [
                ("Retry-After", String(retry)),
                ("x-ms-throttle-scope", "\(scope)/ReadWrite/\(appID)/\(tenant.id)"),
                ("x-ms-throttle-information", "ResourceUnitLimitExceeded"),
            ])
            return decision
        }
        pair.take(cost)
        app.take(cost)
        recordUsage(tenant: tenant, app: key, cost: cost, priority: priority, throttled: false)
        decision.headers = [("x-ms-resource-unit", String(cost))]
        let used = max(pair.usedFraction, app.usedFraction)
        if used > 0.8 { decision.headers.append(("x-ms-throttle-limit-percentage", Self.percentage(used))) }
        return decision
    }

    private mutating func recordUsage(tenant: EmulatedTenant, app: String, cost: Int, priority: ThrottlePriority, throttled: Bool) {
        tenant.usage[app, default: UsageCounters()].record(cost: cost, priority: priority, throttled: throttled)
        applicationUsage[app, default: UsageCounters()].record(cost: cost, priority: priority, throttled: throttled)
    }

    /// `0.85`: the share of the limit in use, two decimals, within the 0.8–1.8 that "Microsoft Graph service-specific
    /// throttling limits" documents for `x-ms-throttle-limit-percentage`.
    static func percentage(_ fraction: Double) -> String {
        let hundredths = Int((min(1.8, fraction) * 100).rounded(.down))
        let cents = hundredths % 100
        return "\(hundredths / 100).\(cents < 10 ? "0" : "")\(cents)"
    }
}
