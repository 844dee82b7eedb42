import Foundation
import Synchronization

/// All mutable emulator state behind one lock, shared by the HTTP handlers and in-process admin calls.
///
/// A `Mutex` rather than an actor: every request does a short, synchronous read or update
/// (a dictionary lookup, a page copy), and the lock keeps that off the actor hop.
final class EmulatorState: Sendable {
    let configuration: EmulatorConfiguration
    let world: Mutex<World>
    private let baseURLStorage = Mutex<String>("http://127.0.0.1")

    init(configuration: EmulatorConfiguration) {
        self.configuration = configuration
        var world = World(configuration: configuration)
        for i in 0..<max(0, configuration.tenants) {
            _ = world.createTenant(domain: nil, users: configuration.usersPerTenant,
                                   groups: configuration.groupsPerTenant,
                                   seed: configuration.seed &+ UInt64(i) &* 7919, index: i)
        }
        self.world = Mutex(world)
    }

    var baseURL: String {
        get { baseURLStorage.withLock { $0 } }
        set { baseURLStorage.withLock { $0 = newValue } }
    }
}

/// The emulator's data: tenants, tokens, codes, faults, counters.
///
/// `@unchecked Sendable` because it holds reference types (tenants, directories) that are only ever
/// touched inside `EmulatorState.world`'s mutex; no reference escapes a `withLock` closure.
struct World: @unchecked Sendable {
    let configuration: EmulatorConfiguration
    var tenants: [EmulatedTenant] = []
    var tenantIndexByKey: [String: Int] = [:]
    var accessTokens: [String: AccessTokenRecord] = [:]
    var refreshTokens: [String: RefreshTokenRecord] = [:]
    var authorizationCodes: [String: AuthorizationCodeRecord] = [:]
    var deviceCodes: [String: DeviceCodeRecord] = [:]
    var deviceCodeByUserCode: [String: String] = [:]
    /// Client assertion ids (`appId jti`) already accepted, with their `exp`: a second use is a replay.
    var seenAssertions: [String: Double] = [:]
    var faults: [FaultRule] = []
    var nextFaultID = 1
    var random: SeededGenerator = {
        var system = SystemRandomNumberGenerator()
        return SeededGenerator(seed: system.next())
    }()
    var clockOffset: Double = 0
    /// Per-app resource-unit buckets across all tenants, by lowercased app id.
    var applicationBuckets: [String: TokenBucket] = [:]
    /// Graph usage per app across all tenants, by lowercased app id.
    var applicationUsage: [String: UsageCounters] = [:]
    var requestLog: [RequestLogEntry] = []
    /// Tokens issued so far (``AccessTokenRecord/serial``).
    var issuedTokens = 0
    /// Continuous access evaluation: the issue count at the latest session revocation, by ``sessionKey(tenant:user:appID:)``.
    var sessionRevocations: [String: SessionRevocation] = [:]
    var requestLogStart = 0

    init(configuration: EmulatorConfiguration) {
        self.configuration = configuration
    }

    /// The emulator's clock plus the offset the admin API can advance: wall-clock time, or a manual clock that
    /// stands still until advanced (`EmulatorConfiguration.manualClockStart`), so tests need no sleeps.
    func now() -> Double { (configuration.manualClockStart ?? Date().timeIntervalSince1970) + clockOffset }

    func tenantIndex(_ key: String) -> Int? { tenantIndexByKey[key.lowercased()] }

    @discardableResult
    mutating func createTenant(domain: String?, users: Int, groups: Int, seed: UInt64, index: Int? = nil) -> Int {
        var rng = SeededGenerator(seed: seed)
        let position = index ?? tenants.count
        var chosenDomain = (domain ?? DirectoryGenerator.domain(forTenant: position)).lowercased()
        var bump = 2
        while tenantIndexByKey[chosenDomain] != nil {
            chosenDomain = chosenDomain.replacingOccurrences(of: ".onmicrosoft.com", with: "") + "\(bump).onmicrosoft.com"
            bump += 1
        }
        let id = rng.guid()
        let name = chosenDomain.split(separator: ".").first.map { $0.prefix(1).uppercased() + $0.dropFirst() } ?? chosenDomain
        let directory = TenantDirectory(domain: chosenDomain, seed: seed)
        DirectoryGenerator.populate(directory, users: users, groups: groups, seed: seed)
        let tenant = EmulatedTenant(id: id, domain: chosenDomain, displayName: name, directory: directory,
                                    settings: configuration.tenantSettings)
        let product = AppRegistration.product(clientID: configuration.clientID, secret: configuration.clientSecret,
                                              consented: configuration.productAppConsented)
        tenant.apps[product.appId.lowercased()] = AppState(registration: product, servicePrincipalID: rng.guid())
        tenants.append(tenant)
        tenantIndexByKey[id] = tenants.count - 1
        tenantIndexByKey[chosenDomain] = tenants.count - 1
        return tenants.count - 1
    }

    func tenantInfo(_ i: Int) -> TenantInfo {
        let t = tenants[i]
        return TenantInfo(id: t.id, domain: t.domain, displayName: t.displayName,
                          users: t.directory.activeUserCount, groups: t.directory.activeGroupCount,
                          settings: t.settings, apps: t.apps.values.map(\.publicView).sorted { $0.appId < $1.appId },
                          roleAssignments: t.roleAssignments)
    }

    /// Access-token lifetime: fixed per tenant, or 60–90 minutes at random like Microsoft.
    mutating func accessTokenLifetime(_ tenant: EmulatedTenant) -> Int {
        if let fixed = tenant.settings.accessTokenLifetimeSeconds { return fixed }
        return 3_600 + Int(random.next() % 1_801)
    }

    // MARK: Request log

    mutating func log(_ entry: RequestLogEntry) {
        let limit = max(1, configuration.requestLogLimit)
        if requestLog.count < limit {
            requestLog.append(entry)
        } else {
            requestLog[requestLogStart] = entry
            requestLogStart = (requestLogStart + 1) % limit
        }
    }

    var orderedLog: [RequestLogEntry] {
        Array(requestLog[requestLogStart...] + requestLog[..<requestLogStart])
    }

    // MARK: Faults

    /// The first fault matching this request, with its remaining count decremented.
    mutating func takeFault(path: String, tenant: Int?) -> FaultRule? {
        let id = tenant.map { tenants[$0].id }
        let domain = tenant.map { tenants[$0].domain }
        for i in faults.indices where faults[i].matches(path: path, tenantID: id, tenantDomain: domain) {
            if let p = faults[i].probability, p < 1 {
                let draw = Double(random.next() % 1_000_000) / 1_000_000
                if draw >= p { continue }
            }
            let fault = faults[i]
            if let times = faults[i].times {
                if times <= 1 { faults.remove(at: i) } else { faults[i].times = times - 1 }
            }
            if let t = tenant { tenants[t].count("faults") }
            return fault
        }
        return nil
    }
}

/// One request as the emulator's log keeps it (no query string or body: they can carry secrets).
public struct RequestLogEntry: Sendable, Codable, Equatable {
    public var time: String
    public var method: String
    public var path: String
    public var status: Int
    public var tenantId: String?
    /// `token`, `devicecode`, `authorize`, `adminconsent`, `graph`, `outlook` or `other`.
    public var kind: String
    /// For token requests, the grant type.
    public var grantType: String?
    public var fault: String?
    /// The request's `x-ms-throttle-priority` as sent (`nil`: none), so a test can tell which requests a client paced.
    public var priority: String?
}
