import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TenantSyncCore

/// One refresh of one grant under its lock: the refresh, its durable write, and what a failure becomes.
extension TokenRefresher {
    /// Refreshes the grant if it is (still) due once its lock is held.
    ///
    /// - Parameters:
    ///   - onDemand: the hot path found the access token expired; refresh only if it still is.
    ///   - forcedBelow: refresh regardless of the schedule if the stored generation is still below this
    ///     (a caller whose token Microsoft rejected; a concurrent refresh already replaced it otherwise).
    ///   - claims: a resource's claims challenge the new token must answer (with `forcedBelow`).
    @discardableResult
    func refreshIfDue(grantID: Int64, onDemand: Bool, forcedBelow: Int? = nil, claims: String? = nil) async -> Bool {
        await locks.withLock(grantID) {
            do {
                return try await refreshHoldingLock(grantID: grantID, onDemand: onDemand, forcedBelow: forcedBelow, claims: claims)
            } catch is CancellationError {
                return false
            } catch {
                // The store failed: keep away from Microsoft for a while rather than rotate tokens we cannot keep.
                let until = now().addingTimeInterval(configuration.storeRetryDelay.secondsDouble)
                tracker.withLock { $0.deferGrant(grantID, until: until) }
                logger.error("Token refresh could not be recorded", metadata: ["grant.id": "\(grantID)", "error": "\(error)"])
                return false
            }
        }
    }

    private func refreshHoldingLock(grantID: Int64, onDemand: Bool, forcedBelow: Int?, claims: String?) async throws -> Bool {
        // Read under the lock: the refresh token used is always the newest stored one.
        guard let snapshot = try await storage.tokenSnapshot(grantID: grantID), snapshot.grant.state == .valid,
              let current = snapshot.tokens, let dueAt = snapshot.nextRefreshAt
        else { return false }
        let startedAt = now()
        if let forcedBelow {
            guard snapshot.generation < forcedBelow else { return false }
        } else {
            guard dueAt <= startedAt, !onDemand || current.expiresAt <= startedAt else { return false }
        }
        guard let account = try await storage.account(id: snapshot.grant.accountID),
              let tenant = try await storage.tenant(idOrDomain: account.tenantID)
        else { return false }
        var metadata: Logger.Metadata = [
            "grant.id": "\(grantID)", "grant.name": "\(snapshot.grant.name)", "account.id": "\(account.id)",
            "account.service": "\(account.service.rawValue)", "tenant.id": "\(tenant.id)",
        ]
        let subject = TokenAlertComposer.Subject(
            tenantID: tenant.id, tenantDomain: tenant.domain, service: account.service, accountID: account.id,
            grantID: grantID, grantName: snapshot.grant.name
        )
        // The scheduled path probed for its round; a caller's on-demand or forced refresh probes itself.
        if onDemand || forcedBelow != nil, await storeRefusesWrites() != nil {
            throw TenantSyncError(
                .storeUnavailable, "The database refuses writes; the token is not refreshed until it accepts them again.",
                context: ["grant.id": "\(grantID)"]
            )
        }
        let fresh: TokenSet
        let requestedAt = ContinuousClock.now
        do {
            fresh = try await granter.refreshTokens(grant: snapshot.grant, account: account, tenant: tenant, current: current, claims: claims)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let result = try await recordFailure(error, snapshot: snapshot, current: current, subject: subject, metadata: &metadata)
            metrics?.tokenRefreshFinished(result: result, duration: requestedAt.duration(to: .now))
            return false
        }
        metrics?.tokenRefreshFinished(result: .ok, duration: requestedAt.duration(to: .now))
        let nextRefreshAt = configuration.schedule.nextRefresh(for: fresh, random: random())
        // The commit comes before anything can read the new access token.
        let stored = try await storage.storeRefreshedTokenSet(
            grantID: grantID, tokens: fresh, nextRefreshAt: nextRefreshAt, expectedGeneration: snapshot.generation, at: now()
        )
        metadata["token.expires_at"] = "\(fresh.expiresAt)"
        metadata["token.next_refresh_at"] = "\(nextRefreshAt)"
        if stored {
            logger.debug("Token refreshed", metadata: metadata)
        } else {
            logger.notice("Token refresh discarded: the grant changed meanwhile", metadata: metadata)
        }
        return stored
    }

    private func recordFailure(
        _ error: any Error, snapshot: TokenSnapshot, current: TokenSet, subject: TokenAlertComposer.Subject,
        metadata: inout Logger.Metadata
    ) async throws -> TokenRefreshResult {
        let failure = (error as? TokenFailureConvertible)?.tokenFailure ?? TokenFailure()
        let at = now()
        let failures = snapshot.consecutiveFailures + 1
        metadata["oauth.failure"] = "\(failure.summary)"
        metadata["oauth.trace_id"] = "\(failure.traceID ?? "")"
        metadata["token.consecutive_failures"] = "\(failures)"
        let channels = configuration.alertChannels
        switch configuration.failurePolicy.decide(failure, failures: failures, random: random()) {
        case .retry(let delay):
            let expired = current.expiresAt <= at
            let report = expired ? incidentReport(.tokenRefreshFailing, snapshot: snapshot, failure: failure, at: at) : nil
            let outcome = try await storage.recordTransientFailure(
                grantID: snapshot.grant.id, outcome: "transient: \(failure.summary)", at: at,
                nextRefreshAt: at.addingTimeInterval(delay.secondsDouble), incident: report,
                alert: { TokenAlertComposer.refreshFailing(subject, incident: $0, failure: failure) }, channels: channels
            )
            metadata["token.retry_in"] = "\(delay)"
            if TokenErrorClassifier.classify(failure) == .unrecognized {
                metadata["tokens.unrecognized_limit"] = "\(configuration.failurePolicy.unrecognizedErrorLimit)"
                logger.warning("Token refresh failed with an unrecognized error; it becomes permanent after the limit", metadata: metadata)
            } else {
                logger.warning("Token refresh failed temporarily; retrying", metadata: metadata)
            }
            if outcome.isNew {
                logger.error("Access token expired while refreshes keep failing", metadata: metadata)
            }
            return .transient
        case .invalidate(let reason):
            metadata["token.invalid_reason"] = "\(reason.rawValue)"
            let outcome = try await storage.invalidateGrant(
                grantID: snapshot.grant.id, outcome: "permanent: \(failure.summary)",
                report: incidentReport(.tokenInvalid, snapshot: snapshot, failure: failure, at: at),
                alert: { TokenAlertComposer.tokenInvalid(subject, incident: $0, reason: reason) }, channels: channels
            )
            metadata["incident.id"] = "\(outcome.incident?.id ?? 0)"
            metadata["incident.new"] = "\(outcome.isNew)"
            logger.error("Grant is invalid; an administrator must renew it", metadata: metadata)
            return .permanent
        }
    }

    private func incidentReport(_ kind: Incident.Kind, snapshot: TokenSnapshot, failure: TokenFailure, at: Date) -> IncidentReport {
        IncidentReport(
            grantID: snapshot.grant.id, accountID: snapshot.grant.accountID, kind: kind, error: failure.error,
            aadstsCode: failure.aadstsCode, traceID: failure.traceID, correlationID: failure.correlationID, seenAt: at
        )
    }
}
