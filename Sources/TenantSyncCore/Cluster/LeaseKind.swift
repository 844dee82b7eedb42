/// The kinds of work several daemons share through leases; a lease's key names one item of its kind.
public enum LeaseKind: String, Sendable, CaseIterable, Hashable {
    /// Refreshing one grant's token set; the key is the grant id.
    case tokenRefresh = "token-refresh"
    /// Synchronizing one tenant's directory; the key is the tenant id.
    case sync
    /// Delivering one outbox row; the key is the alert id and channel.
    case delivery
    /// One provisioning's consent session; the key is the provisioning's id.
    case consentSession = "consent-session"
}
