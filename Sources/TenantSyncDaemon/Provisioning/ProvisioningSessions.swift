import Foundation
import MicrosoftCloud

/// The in-memory side of provisioning: which accounts are being driven, and device codes awaiting approval.
///
/// Nothing here must survive a restart: a lost device code is simply started
/// again when the operator retries the step.
actor ProvisioningSessions {
    struct PendingConsent: Sendable {
        var stage: ProvisioningStage
        var authorization: DeviceCodeAuthorization
        var expiresAt: Date
    }

    private var busy: Set<Int64> = []
    private var pending: [Int64: PendingConsent] = [:]

    /// Marks the account as being driven; refuses a second concurrent session.
    func begin(_ accountID: Int64) -> Bool {
        busy.insert(accountID).inserted
    }

    func end(_ accountID: Int64) { busy.remove(accountID) }

    /// The pending device code of that stage, if it has not expired.
    func pendingConsent(_ accountID: Int64, stage: ProvisioningStage, now: Date) -> PendingConsent? {
        guard let consent = pending[accountID], consent.stage == stage, consent.expiresAt > now else { return nil }
        return consent
    }

    func setPending(_ accountID: Int64, _ consent: PendingConsent?) { pending[accountID] = consent }
}
