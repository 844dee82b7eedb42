/// The facts an alert names: one typed vocabulary written by every producer and read by every channel.
///
/// Producers (token refresher, provisioner, sync, evaluation budget) fill the fields; the
/// mail composer, the journal channel and the hook channel read the same fields, so a
/// producer and a channel cannot disagree on a name: a typo does not compile.
///
/// Stored as JSON in the alert's `details_json` column and handed to hooks as the
/// `details` object. The JSON names (``CodingKeys``) are the dotted keys the daemon
/// also uses as log metadata; they are a documented contract (README, "Alerts and their facts")
/// and the journal fields are derived from them (`tenant.domain` → `TENANT_DOMAIN`).
/// Decoding never fails on a stored row: unknown keys are ignored, values of the wrong
/// type are dropped, and the keys older versions wrote (`tenant_domain`, `service`,
/// `grant`, `aadsts_code`, `trace_id`, …) are read as the fields they meant.
public struct AlertFacts: Sendable, Equatable, Codable {
    // Who: tenant, service account, grant.
    public var tenantID: String?
    public var tenantDomain: String?
    public var service: ServiceKind?
    public var accountID: Int64?
    public var accountState: AccountState?
    public var grantID: Int64?
    public var grantName: String?

    // What Microsoft answered (token alerts).
    /// Why the grant is considered permanently invalid (`TokenErrorClass.PermanentReason`).
    public var reason: String?
    /// The OAuth `error` field, e.g. `invalid_grant`.
    public var oauthError: String?
    /// The AADSTS code without its prefix, e.g. 70008.
    public var aadstsCode: Int?
    /// Microsoft's trace id of the failed request.
    public var traceID: String?
    public var correlationID: String?
    /// The last transient failure, in words (token refresh failing).
    public var failure: String?
    public var resolvedIncidents: Int?

    /// The exact command that resolves the alert (e.g. `tenantsyncctl renew 42`).
    public var command: String?

    // Directory sync.
    public var syncRun: Int64?
    public var usersAdded: Int?
    public var groupsAdded: Int?
    /// Protected users before a held run.
    public var usersBefore: Int?
    public var removedUsers: Int?
    public var removedGroups: Int?
    /// The share of users a held run would remove, e.g. `60.0%`.
    public var removedShare: String?
    /// The mass-deletion threshold, e.g. `20.0%`.
    public var threshold: String?
    public var confirmCommand: String?
    public var discardCommand: String?

    // Teams Chat evaluation budget.
    public var budgetUsed: Int?
    public var budgetLimit: Int?
    /// `YYYY-MM` (UTC).
    public var budgetMonth: String?

    // Provisioning and Inline Mode.
    /// The Exchange Online connector an Inline Mode change created or verified.
    public var connector: String?
    public var provisioningStep: String?
    /// What went wrong, in words (provisioning failed).
    public var error: String?

    // Credential expiry.
    /// `secret` or `certificate`.
    public var credentialKind: String?
    /// The application (client) id the credential belongs to.
    public var credentialAppID: String?
    /// When it stops working, ISO 8601 UTC.
    public var credentialExpires: String?
    /// Whole days left (0 once expired).
    public var credentialDaysLeft: Int?
    /// A certificate's SHA-1 thumbprint (hex), as the Entra admin center lists it.
    public var credentialThumbprint: String?

    public init(
        tenantID: String? = nil, tenantDomain: String? = nil, service: ServiceKind? = nil, accountID: Int64? = nil,
        accountState: AccountState? = nil, grantID: Int64? = nil, grantName: String? = nil, reason: String? = nil,
        oauthError: String? = nil, aadstsCode: Int? = nil, traceID: String? = nil, correlationID: String? = nil,
        failure: String? = nil, resolvedIncidents: Int? = nil, command: String? = nil, syncRun: Int64? = nil,
        usersAdded: Int? = nil, groupsAdded: Int? = nil, usersBefore: Int? = nil, removedUsers: Int? = nil,
        removedGroups: Int? = nil, removedShare: String? = nil, threshold: String? = nil, confirmCommand: String? = nil,
        discardCommand: String? = nil, budgetUsed: Int? = nil, budgetLimit: Int? = nil, budgetMonth: String? = nil,
        connector: String? = nil, provisioningStep: String? = nil, error: String? = nil,
        credentialKind: String? = nil, credentialAppID: String? = nil, credentialExpires: String? = nil, credentialDaysLeft: Int? = nil,
        credentialThumbprint: String? = nil
    ) {
        self.tenantID = tenantID
        self.tenantDomain = tenantDomain
        self.service = service
        self.accountID = accountID
        self.accountState = accountState
        self.grantID = grantID
        self.grantName = grantName
        self.reason = reason
        self.oauthError = oauthError
        self.aadstsCode = aadstsCode
        self.traceID = traceID
        self.correlationID = correlationID
        self.failure = failure
        self.resolvedIncidents = resolvedIncidents
        self.command = command
        self.syncRun = syncRun
        self.usersAdded = usersAdded
        self.groupsAdded = groupsAdded
        self.usersBefore = usersBefore
        self.removedUsers = removedUsers
        self.removedGroups = removedGroups
        self.removedShare = removedShare
        self.threshold = threshold
        self.confirmCommand = confirmCommand
        self.discardCommand = discardCommand
        self.budgetUsed = budgetUsed
        self.budgetLimit = budgetLimit
        self.budgetMonth = budgetMonth
        self.connector = connector
        self.provisioningStep = provisioningStep
        self.error = error
        self.credentialKind = credentialKind
        self.credentialAppID = credentialAppID
        self.credentialExpires = credentialExpires
        self.credentialDaysLeft = credentialDaysLeft
        self.credentialThumbprint = credentialThumbprint
    }

    /// The facts every alert about one service account starts from.
    public static func account(tenantID: String, tenantDomain: String, service: ServiceKind, accountID: Int64) -> AlertFacts {
        AlertFacts(tenantID: tenantID, tenantDomain: tenantDomain, service: service, accountID: accountID)
    }

    /// The JSON names: the dotted log-metadata keys. Changing one breaks hooks and journal queries.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case tenantID = "tenant.id"
        case tenantDomain = "tenant.domain"
        case service = "account.service"
        /// Written only: the service's display name (`Exchange Online`), for hooks and the journal.
        case serviceName = "service.name"
        case accountID = "account.id"
        case accountState = "account.state"
        case grantID = "grant.id"
        case grantName = "grant.name"
        case reason = "token.reason"
        case oauthError = "oauth.error"
        case aadstsCode = "aadsts.code"
        case traceID = "trace.id"
        case correlationID = "correlation.id"
        case failure = "token.failure"
        case resolvedIncidents = "incidents.resolved"
        case command = "command"
        case syncRun = "sync.run"
        case usersAdded = "sync.users_added"
        case groupsAdded = "sync.groups_added"
        case usersBefore = "sync.users"
        case removedUsers = "sync.removals"
        case removedGroups = "sync.groups_removed"
        case removedShare = "sync.removed_share"
        case threshold = "sync.threshold"
        case confirmCommand = "sync.confirm_command"
        case discardCommand = "sync.discard_command"
        case budgetUsed = "budget.used"
        case budgetLimit = "budget.limit"
        case budgetMonth = "budget.month"
        case connector = "mail_flow.connector"
        case provisioningStep = "provisioning.step"
        case error = "error"
        case credentialKind = "credential.kind"
        case credentialAppID = "credential.app_id"
        case credentialExpires = "credential.expires"
        case credentialDaysLeft = "credential.days_left"
        case credentialThumbprint = "credential.thumbprint"

        /// The names versions before the shared vocabulary stored (token alerts, mass-deletion holds).
        var legacyNames: [String] {
            switch self {
            case .tenantID: ["tenant_id"]
            case .tenantDomain: ["tenant_domain"]
            case .service: ["service"]
            case .accountID: ["account_id"]
            case .accountState: ["account_state"]
            case .grantID: ["grant_id"]
            case .grantName: ["grant"]
            case .reason: ["reason"]
            case .aadstsCode: ["aadsts_code", "aadsts"]
            case .traceID: ["trace_id"]
            case .correlationID: ["correlation_id"]
            case .failure: ["failure"]
            case .resolvedIncidents: ["resolved_incidents"]
            case .confirmCommand: ["confirm"]
            case .discardCommand: ["discard"]
            default: []
            }
        }
    }

    /// Any name, for reading the current and the legacy keys from one container.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        self.init()
        // A details column that is not a JSON object (or empty) yields no facts rather than an unreadable alert.
        guard let container = try? decoder.container(keyedBy: AnyKey.self) else { return }

        func text(_ key: CodingKeys) -> String? {
            for name in [key.rawValue] + key.legacyNames {
                let k = AnyKey(name)
                if let value = try? container.decodeIfPresent(String.self, forKey: k) { return value }
                if let value = try? container.decodeIfPresent(Int64.self, forKey: k) { return String(value) }
            }
            return nil
        }
        func integer(_ key: CodingKeys) -> Int64? {
            for name in [key.rawValue] + key.legacyNames {
                let k = AnyKey(name)
                if let value = try? container.decodeIfPresent(Int64.self, forKey: k) { return value }
                if let value = try? container.decodeIfPresent(String.self, forKey: k) {
                    // Older rows stored numbers as text, AADSTS codes sometimes with their prefix.
                    let digits = value.hasPrefix("AADSTS") ? String(value.dropFirst(6)) : value
                    if let number = Int64(digits) { return number }
                }
            }
            return nil
        }

        tenantID = text(.tenantID)
        tenantDomain = text(.tenantDomain)
        service = text(.service).flatMap(ServiceKind.init(rawValue:))
        accountID = integer(.accountID)
        accountState = text(.accountState).flatMap(AccountState.init(rawValue:))
        grantID = integer(.grantID)
        grantName = text(.grantName)
        reason = text(.reason)
        oauthError = text(.oauthError)
        aadstsCode = integer(.aadstsCode).map { Int($0) }
        traceID = text(.traceID)
        correlationID = text(.correlationID)
        failure = text(.failure)
        resolvedIncidents = integer(.resolvedIncidents).map { Int($0) }
        command = text(.command)
        syncRun = integer(.syncRun)
        usersAdded = integer(.usersAdded).map { Int($0) }
        groupsAdded = integer(.groupsAdded).map { Int($0) }
        usersBefore = integer(.usersBefore).map { Int($0) }
        removedUsers = integer(.removedUsers).map { Int($0) }
        removedGroups = integer(.removedGroups).map { Int($0) }
        removedShare = text(.removedShare)
        threshold = text(.threshold)
        confirmCommand = text(.confirmCommand)
        discardCommand = text(.discardCommand)
        budgetUsed = integer(.budgetUsed).map { Int($0) }
        budgetLimit = integer(.budgetLimit).map { Int($0) }
        budgetMonth = text(.budgetMonth)
        connector = text(.connector)
        provisioningStep = text(.provisioningStep)
        error = text(.error)
        credentialKind = text(.credentialKind)
        credentialAppID = text(.credentialAppID)
        credentialExpires = text(.credentialExpires)
        credentialDaysLeft = integer(.credentialDaysLeft).map { Int($0) }
        credentialThumbprint = text(.credentialThumbprint)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(tenantID, forKey: .tenantID)
        try container.encodeIfPresent(tenantDomain, forKey: .tenantDomain)
        try container.encodeIfPresent(service, forKey: .service)
        try container.encodeIfPresent(service?.displayName, forKey: .serviceName)
        try container.encodeIfPresent(accountID, forKey: .accountID)
        try container.encodeIfPresent(accountState, forKey: .accountState)
        try container.encodeIfPresent(grantID, forKey: .grantID)
        try container.encodeIfPresent(grantName, forKey: .grantName)
        try container.encodeIfPresent(reason, forKey: .reason)
        try container.encodeIfPresent(oauthError, forKey: .oauthError)
        try container.encodeIfPresent(aadstsCode, forKey: .aadstsCode)
        try container.encodeIfPresent(traceID, forKey: .traceID)
        try container.encodeIfPresent(correlationID, forKey: .correlationID)
        try container.encodeIfPresent(failure, forKey: .failure)
        try container.encodeIfPresent(resolvedIncidents, forKey: .resolvedIncidents)
        try container.encodeIfPresent(command, forKey: .command)
        try container.encodeIfPresent(syncRun, forKey: .syncRun)
        try container.encodeIfPresent(usersAdded, forKey: .usersAdded)
        try container.encodeIfPresent(groupsAdded, forKey: .groupsAdded)
        try container.encodeIfPresent(usersBefore, forKey: .usersBefore)
        try container.encodeIfPresent(removedUsers, forKey: .removedUsers)
        try container.encodeIfPresent(removedGroups, forKey: .removedGroups)
        try container.encodeIfPresent(removedShare, forKey: .removedShare)
        try container.encodeIfPresent(threshold, forKey: .threshold)
        try container.encodeIfPresent(confirmCommand, forKey: .confirmCommand)
        try container.encodeIfPresent(discardCommand, forKey: .discardCommand)
        try container.encodeIfPresent(budgetUsed, forKey: .budgetUsed)
        try container.encodeIfPresent(budgetLimit, forKey: .budgetLimit)
        try container.encodeIfPresent(budgetMonth, forKey: .budgetMonth)
        try container.encodeIfPresent(connector, forKey: .connector)
        try container.encodeIfPresent(provisioningStep, forKey: .provisioningStep)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encodeIfPresent(credentialKind, forKey: .credentialKind)
        try container.encodeIfPresent(credentialAppID, forKey: .credentialAppID)
        try container.encodeIfPresent(credentialExpires, forKey: .credentialExpires)
        try container.encodeIfPresent(credentialDaysLeft, forKey: .credentialDaysLeft)
        try container.encodeIfPresent(credentialThumbprint, forKey: .credentialThumbprint)
    }
}
