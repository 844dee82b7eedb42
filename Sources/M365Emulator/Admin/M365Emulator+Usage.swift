/// Admin operations for Graph cost: usage per tenant and per app, its reset, and per-tenant latency.
extension M365Emulator {
    /// Graph requests, resource units, 429s and priorities of one tenant, per app, with its limit.
    public func usage(tenant key: String) throws(EmulatorError) -> TenantUsage {
        try withTenant(key) { w, t in
            let tenant = w.tenants[t]
            return TenantUsage(tenantId: tenant.id, resourceUnitsPer10Seconds: tenant.resourceUnitsPer10Seconds,
                               throttlingEnabled: tenant.settings.throttlingEnabled,
                               total: tenant.usage.values.reduce(UsageCounters(), +), apps: tenant.usage)
        }
    }

    /// Usage per app across all tenants and per tenant, with the per-app limit.
    public func usage() -> EmulatorUsage {
        state.world.withLock { w in
            var tenants: [String: UsageCounters] = [:]
            for tenant in w.tenants where !tenant.usage.isEmpty {
                tenants[tenant.id] = tenant.usage.values.reduce(UsageCounters(), +)
            }
            return EmulatorUsage(applicationResourceUnitsPer20Seconds: w.configuration.applicationResourceUnitsPer20Seconds,
                                 total: w.applicationUsage.values.reduce(UsageCounters(), +),
                                 apps: w.applicationUsage, tenants: tenants)
        }
    }

    /// Zeroes the usage counters of one tenant (and takes them out of the per-app totals); buckets stay as they are.
    public func resetUsage(tenant key: String) throws(EmulatorError) {
        try withTenant(key) { w, t in
            for (app, counters) in w.tenants[t].usage {
                var total = w.applicationUsage[app] ?? UsageCounters()
                total.requests -= counters.requests
                total.resourceUnits -= counters.resourceUnits
                total.throttled -= counters.throttled
                for (p, n) in counters.requestsByPriority { total.requestsByPriority[p, default: 0] -= n }
                w.applicationUsage[app] = total
            }
            w.tenants[t].usage = [:]
        }
    }

    /// Zeroes every usage counter; with `refill`, also fills every resource-unit bucket again.
    public func resetUsage(refill: Bool = false) {
        state.world.withLock { w in
            w.applicationUsage = [:]
            for tenant in w.tenants {
                tenant.usage = [:]
                if refill { tenant.buckets = [:] }
            }
            if refill { w.applicationBuckets = [:] }
        }
    }

    /// Sets the per-request latency of one tenant; nil returns it to the emulator's default.
    public func setLatency(tenant key: String, _ latency: Duration?) throws(EmulatorError) {
        if let latency, latency < .zero || latency > .seconds(600) { throw .badRequest("latency must be 0...600 s") }
        try withTenant(key) { w, t in
            w.tenants[t].settings.latencyMilliseconds = latency.map { Int($0.components.seconds * 1_000 + $0.components.attoseconds / 1_000_000_000_000_000) }
        }
    }
}
