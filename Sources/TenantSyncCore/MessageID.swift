/// A journal `MESSAGE_ID`: a stable 128-bit id (32 lower-case hex digits) naming one kind of event.
///
/// Domain vocabulary, not a journal detail: services put it in a log line's `message.id` metadata and
/// alerts are matched to it by kind; the journal adapter (`Systemd`) writes it as `MESSAGE_ID`.
///
/// `journalctl MESSAGE_ID=…` finds every instance; `journalctl -x` shows the
/// explanation from `systemd/tenantsync.catalog`. The ids were generated once
/// with `systemd-id128 new` and must never change.
public struct MessageID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Accepts exactly 32 lower-case hex digits.
    public init?(rawValue: String) {
        guard rawValue.utf8.count == 32, rawValue.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            return nil
        }
        self.rawValue = rawValue
    }

    private init(_ literal: StaticString) {
        self.rawValue = literal.description
    }

    public var description: String { rawValue }

    /// A service account became active: "<Service> protected."
    public static let accountProtected = MessageID("8639c5e1afbc45b08231bd43609a800b")
    /// Microsoft refused a grant permanently; an administrator must renew it.
    public static let tokenInvalid = MessageID("a1dff5adfc7d4a57a7124945c29025f3")
    /// An administrator created a new token; the incident is resolved.
    public static let tokenRenewed = MessageID("c65ad0a0e6e24a108a18ca1c840b83e2")
    /// Transient refresh failures outlasted the access token; retries go on.
    public static let tokenRefreshFailing = MessageID("20335bedca784dfcb7c4f980fe76e62d")
    /// A directory sync run started.
    public static let syncStarted = MessageID("ac10732b3beb4c959cac90902d720448")
    /// A directory sync run finished.
    public static let syncFinished = MessageID("2f05319c912841eab27ea7b58176a2e9")
    /// A directory sync run failed.
    public static let syncFailed = MessageID("8fa95814c1ff4c4491eaade92de2f4dc")
    /// A tenant's sync scope was extended from selected targets to all targets.
    public static let scopeExtended = MessageID("fb0ae14a461f4f628ef4105f951efbee")
    /// A sync that would delete too many targets was held back.
    public static let massDeletionHeld = MessageID("03034b9e55f24ec7be9809f07e5d9b1b")
    /// An alert could not be delivered on a channel; the outbox retries.
    public static let alertDeliveryFailing = MessageID("10d7eecb9a7a4ff891b549ec43daf661")
    /// The daemon started and is ready.
    public static let daemonStarted = MessageID("faa9071ebfaf4501b9f1cf7645a97960")
    /// The daemon reloaded its configuration.
    public static let daemonReloaded = MessageID("100d46e6bab841a7bba1e704827b4cd2")
    /// The daemon is stopping.
    public static let daemonStopping = MessageID("e60454cef63a46ab88eb953e2212fae3")
    /// Provisioning a service account failed at a step.
    public static let provisioningFailed = MessageID("35fbb47df9f34fd8b37fec51e7cce164")
    /// A service account was removed.
    public static let accountDeprovisioned = MessageID("d9522dc957f944b99184cb367a419f29")
    /// A Teams Chat account in evaluation mode has used 80 % of its monthly API budget.
    public static let evaluationBudgetLow = MessageID("738eebc88342493e9cd78a7c1dc7ba68")
    /// Microsoft refused an evaluation-mode call with 402: the monthly API budget is used up.
    public static let evaluationBudgetExhausted = MessageID("c6c5dc3baade4e789e08249b2d54f78d")
    /// An Exchange Online (Inline Mode) account was upgraded from inbound-only to inbound and outbound protection.
    public static let inlineOutboundUpgraded = MessageID("9c92cfc7ee3e4c6fac232de4807bba31")
    /// An Exchange Online (Inline Mode) account was granted the permission to read activity data.
    public static let activityDataGranted = MessageID("9ab5c61c03ee4b7eb0780bb1e48132c7")
    /// An app credential (client secret or certificate) expires within 30, 7 or 1 days.
    public static let credentialExpiring = MessageID("3faf4c184202454e897e885f81de1a44")
    /// An app credential has expired: Microsoft refuses the tokens it would get.
    public static let credentialExpired = MessageID("9cb7aa9b8ef749ecb71a56bda822d242")

    /// Every id of the catalog, by a stable name (the name is the alert kind where one exists).
    public static let catalog: [(name: String, id: MessageID)] = [
        ("account-protected", accountProtected),
        ("token-invalid", tokenInvalid),
        ("token-renewed", tokenRenewed),
        ("token-refresh-failing", tokenRefreshFailing),
        ("sync-started", syncStarted),
        ("sync-finished", syncFinished),
        ("sync-failed", syncFailed),
        ("scope-extended", scopeExtended),
        ("mass-deletion-held", massDeletionHeld),
        ("alert-delivery-failing", alertDeliveryFailing),
        ("daemon-started", daemonStarted),
        ("daemon-reloaded", daemonReloaded),
        ("daemon-stopping", daemonStopping),
        ("provisioning-failed", provisioningFailed),
        ("account-deprovisioned", accountDeprovisioned),
        ("evaluation-budget-low", evaluationBudgetLow),
        ("evaluation-budget-exhausted", evaluationBudgetExhausted),
        ("inline-outbound-upgraded", inlineOutboundUpgraded),
        ("activity-data-granted", activityDataGranted),
        ("credential-expiring", credentialExpiring),
        ("credential-expired", credentialExpired),
    ]

    /// The id for an event or alert kind such as `token-invalid`, if the catalog has one.
    public static func forKind(_ kind: String) -> MessageID? {
        catalog.first { $0.name == kind }?.id
    }
}
