import Foundation
import TenantSyncCore

/// Which accounts are being driven (provisioned, renewed or changed): one session per account at a time, on this node
/// and, in a cluster, under the account's `consent-session` lease, so that no two nodes drive one account at once.
///
/// What a session waits for outlives it: a device code shown to the administrator is kept in the store
/// (``PendingConsent``), so a provisioning continued later, by this node or another, polls the same code.
actor ProvisioningSessions {
    enum Start: Sendable, Equatable {
        /// The session is this caller's; in a cluster, under this lease.
        case started(Lease?)
        /// Another session of this node drives the account.
        case busyHere
        /// Another node of the cluster holds the account's consent-session lease.
        case busyElsewhere
    }

    let leasing: (any WorkLeasing)?
    private var busy: Set<Int64> = []

    init(leasing: (any WorkLeasing)?) {
        self.leasing = leasing
    }

    /// Starts the account's session, or says who drives it already.
    func start(_ accountID: Int64) async throws -> Start {
        guard busy.insert(accountID).inserted else { return .busyHere }
        guard let leasing else { return .started(nil) }
        do {
            guard let lease = try await leasing.claim(kind: .consentSession, keys: ["\(accountID)"], limit: 1).first else {
                busy.remove(accountID)
                return .busyElsewhere
            }
            return .started(lease)
        } catch {
            busy.remove(accountID)
            throw error
        }
    }

    /// Ends the session that `start` began, releasing its lease.
    func end(_ accountID: Int64, _ lease: Lease?) async {
        if let lease, let leasing { await leasing.release([lease]) }
        busy.remove(accountID)
    }
}

extension Provisioner {
    /// The consent-session lease of the session the current task runs in (`nil` outside a cluster).
    @TaskLocal static var sessionLease: Lease?

    /// Runs `body` as the account's one session (see ``ProvisioningSessions``); `refusal` says what is refused when
    /// another session drives the account.
    func withSession<T: Sendable>(accountID: Int64, refusal: String, _ body: () async throws -> T) async throws -> T {
        let lease: Lease?
        switch try await sessions.start(accountID) {
        case .started(let started): lease = started
        case .busyHere:
            throw TenantSyncError(.invalidArgument, "\(refusal) by another session; wait for it to finish.", context: ["account.id": "\(accountID)"])
        case .busyElsewhere:
            throw TenantSyncError(
                .invalidArgument,
                "\(refusal) by a session on another node of the cluster (it holds the account's consent-session lease; 'tenantsyncctl nodes' "
                    + "lists the leases each node holds); wait for it to finish, then continue here or there.",
                context: ["account.id": "\(accountID)"]
            )
        }
        do {
            let result: T
            if let lease, let leasing = sessions.leasing {
                // Every store write of the session is fenced by its lease, checked in the write's own transaction.
                result = try await leasing.leaseStore.fenced(by: lease) {
                    try await Self.$sessionLease.withValue(lease) { try await body() }
                }
            } else {
                result = try await body()
            }
            await sessions.end(accountID, lease)
            return result
        } catch {
            await sessions.end(accountID, lease)
            throw error
        }
    }

    /// Throws `leaseLost` when this node no longer trusts the session's lease (paused or cut off past it): another node
    /// may drive the account now. Checked before a session stores a grant's tokens or a pending consent, so that a
    /// late answer is dropped here; the write itself is fenced in its transaction (``withSession``).
    func requireSessionLease() throws {
        guard let lease = Self.sessionLease, let leasing = sessions.leasing else { return }
        guard leasing.holds(lease) else { throw lease.lostError }
    }
}
