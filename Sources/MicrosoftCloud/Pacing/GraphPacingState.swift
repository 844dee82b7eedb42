/// The pure state of Graph request pacing: resource-unit token buckets per tenant and for the whole app.
///
/// Microsoft meters identity-and-access reads per app and tenant (3,500 / 5,000 / 8,000 RU per 10 s for tenants
/// under 50 users / 50–500 / over 500) and per app across tenants (150,000 RU per 20 s) ("Microsoft Graph
/// service-specific throttling limits", Identity and access service limits). The same app id also carries the
/// protection service's own scanning, so tenantsync uses at most `share` of each budget.
///
/// No IO and no clock reads: the caller passes `now` in and sleeps until the instant a ``Decision`` names
/// (``GraphPacer`` does that). Rules:
/// - a request is admitted when its estimated cost fits in both its tenant's bucket and the app bucket (a cost
///   larger than a whole bucket is admitted when the bucket is full, leaving a debt);
/// - the answer's `x-ms-resource-unit` corrects the estimate (what Microsoft says it cost is charged);
/// - an `x-ms-throttle-limit-percentage` (sent past 0.8 of a limit, counting the scanner's traffic too) empties the
///   tenant's bucket and halves its refill rate (down to a tenth); each answer without it restores a tenth of
///   the rate, so the pace recovers once the tenant is quiet again;
/// - a 429's `Retry-After` pauses that tenant only, and treats the tenant as above its limit (empty bucket, half
///   rate, no refill before the pause ends).
public struct GraphPacingState<C: Clock>: Sendable where C.Duration == Duration {
    public enum Decision: Sendable, Equatable {
        case send
        case wait(until: C.Instant)
    }

    /// A token bucket, full at `capacity`, refilled at `capacity / window` (times `rateFactor`).
    struct Bucket: Sendable {
        var capacity: Double
        var window: Double
        var level: Double
        var rateFactor = 1.0
        var updated: C.Instant

        var perSecond: Double { capacity / window * rateFactor }

        mutating func refill(_ now: C.Instant) {
            let elapsed = Self.seconds(updated.duration(to: now))
            guard elapsed > 0 else { return }
            level = min(capacity, level + elapsed * perSecond)
            updated = now
        }

        /// Seconds until `cost` fits (0 when it does now); a cost above capacity waits for a full bucket.
        func secondsUntil(_ cost: Double) -> Double {
            let needed = min(cost, capacity)
            return level >= needed ? 0 : (needed - level) / perSecond
        }

        static func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
    }

    struct Tenant: Sendable {
        var bucket: Bucket
        var pausedUntil: C.Instant?
        /// Users a read of this tenant has seen (``learnedUsers(tenant:atLeast:)``): the size class never falls below it.
        var knownUsers = 0
    }

    /// Share of each Microsoft budget tenantsync may use (0 < share ≤ 1).
    public let share: Double
    /// The per-app budget across tenants, RU per 20 s, before the share.
    public let applicationResourceUnitsPer20Seconds: Int
    var app: Bucket?
    var tenants: [String: Tenant] = [:]

    public init(share: Double, applicationResourceUnitsPer20Seconds: Int = 150_000) {
        self.share = share
        self.applicationResourceUnitsPer20Seconds = applicationResourceUnitsPer20Seconds
    }

    /// The app+tenant quota (RU per 10 s) of a tenant with `users` users, as "Microsoft Graph service-specific throttling
    /// limits" (Identity and access service limits) gives it; unknown counts as the smallest.
    public static func tenantResourceUnitsPer10Seconds(users: Int?) -> Int {
        guard let users else { return 3_500 }
        return users < 50 ? 3_500 : users <= 500 ? 5_000 : 8_000
    }

    /// Admits a request of estimated `cost` RU for `tenant` (charging it), or says until when to wait and ask again.
    public mutating func admit(tenant id: String, users: Int?, cost: Int, now: C.Instant) -> Decision {
        var app = self.app ?? Bucket(
            capacity: Double(applicationResourceUnitsPer20Seconds) * share, window: 20,
            level: Double(applicationResourceUnitsPer20Seconds) * share, updated: now
        )
        let known = tenants[id]?.knownUsers ?? 0
        let capacity = Double(Self.tenantResourceUnitsPer10Seconds(users: known > 0 ? max(users ?? 0, known) : users)) * share
        var tenant = tenants[id] ?? Tenant(bucket: Bucket(capacity: capacity, window: 10, level: capacity, updated: now))
        tenant.bucket.refill(now)
        if tenant.bucket.capacity != capacity {
            // The tenant changed size class (its user count became known or crossed 50 / 500).
            tenant.bucket.level = min(capacity, tenant.bucket.level + capacity - tenant.bucket.capacity)
            tenant.bucket.capacity = capacity
        }
        app.refill(now)
        defer {
            self.app = app
            tenants[id] = tenant
        }
        if let paused = tenant.pausedUntil {
            if now < paused { return .wait(until: paused) }
            tenant.pausedUntil = nil
        }
        let wait = max(tenant.bucket.secondsUntil(Double(cost)), app.secondsUntil(Double(cost)))
        guard wait <= 0 else {
            // Whole milliseconds, rounded up, so the caller never wakes a hair too early and spins.
            return .wait(until: now.advanced(by: .milliseconds(Int64((wait * 1000).rounded(.up)))))
        }
        tenant.bucket.level -= Double(cost)
        app.level -= Double(cost)
        return .send
    }

    /// Corrects the charge of an admitted request with what Microsoft says it cost, and adapts to its load report.
    public mutating func answered(tenant id: String, reserved: Int, charged: Int?, limitPercentage: Double?, now: C.Instant) {
        guard var tenant = tenants[id] else { return }
        tenant.bucket.refill(now)
        if let charged, charged != reserved {
            tenant.bucket.level -= Double(charged - reserved)
            app?.level -= Double(charged - reserved)
        }
        if let limitPercentage, limitPercentage >= 0.8 {
            tenant.bucket.level = min(tenant.bucket.level, 0)
            tenant.bucket.rateFactor = max(0.1, tenant.bucket.rateFactor / 2)
        } else {
            tenant.bucket.rateFactor = min(1, tenant.bucket.rateFactor + 0.1)
        }
        tenants[id] = tenant
    }

    /// A read of `tenant` has seen at least `users` users: its size class is at least theirs from now on.
    ///
    /// The first sync of a tenant starts in the smallest class (3,500 RU per 10 s) because its size is unknown; the
    /// first `/users` page (999 users and a next link) already proves the largest, so the rest of the run need not
    /// crawl at a small tenant's pace. Only ever raises the class: Microsoft counts every user object ever created.
    public mutating func learnedUsers(tenant id: String, atLeast users: Int, now: C.Instant) {
        guard users > 0 else { return }
        if var tenant = tenants[id] {
            tenant.knownUsers = max(tenant.knownUsers, users)
            tenants[id] = tenant
        } else {
            // No request yet: the bucket is created at the learned class by the first admission.
            let capacity = Double(Self.tenantResourceUnitsPer10Seconds(users: users)) * share
            tenants[id] = Tenant(bucket: Bucket(capacity: capacity, window: 10, level: capacity, updated: now), knownUsers: users)
        }
    }

    /// A 429 for `tenant`: it alone waits `retryAfter`, then resumes at half its rate.
    public mutating func throttled(tenant id: String, retryAfter: Duration, now: C.Instant) {
        guard var tenant = tenants[id] else { return }
        tenant.bucket.refill(now)
        let until = now.advanced(by: retryAfter)
        tenant.pausedUntil = tenant.pausedUntil.map { max($0, until) } ?? until
        tenant.bucket.level = min(tenant.bucket.level, 0)
        tenant.bucket.rateFactor = max(0.1, tenant.bucket.rateFactor / 2)
        // Nothing refills during the pause: the tenant resumes gently, not with a burst saved up while it waited.
        if tenant.bucket.updated < until { tenant.bucket.updated = until }
        tenants[id] = tenant
    }
}
