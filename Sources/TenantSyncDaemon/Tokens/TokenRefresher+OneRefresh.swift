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
    func refreshIfDue(grantID: Int64, onDemand: Bool, forcedBelow: Int? = nil, claims: String? = nil, lease: Lease? = nil) async -> Bool {
        guard let leasing else {
            return await refreshLocked(grantID: grantID, onDemand: onDemand, forcedBelow: forcedBelow, claims: claims, lease: nil)
        }
        // In a cluster the grant is refreshed only under its lease: the scheduled round claimed it already; an
        // on-demand or forced refresh claims it here, and leaves it to the node that holds it otherwise.
        var held = lease
        if held == nil {
            do {
                held = try await leasing.claim(kind: .tokenRefresh, keys: [String(grantID)], limit: 1).first
            } catch {
                logger.error("The grant's lease could not be claimed; the token is not refreshed", metadata: ["grant.id": "\(grantID)", "error": "\(error)"])
                return false
            }
        }
        guard let held else {
            logger.debug("Another node holds the grant's lease; its refresh reaches this node through the store", metadata: ["grant.id": "\(grantID)"])
            return false
        }
        let refreshed = await refreshLocked(grantID: grantID, onDemand: onDemand, forcedBelow: forcedBelow, claims: claims, lease: held)
        await leasing.release([held])
        return refreshed
    }

    private func refreshLocked(grantID: Int64, onDemand: Bool, forcedBelow: Int?, claims: String?, lease: Lease?) async -> Bool {
        await locks.withLock(grantID) {
            do {
                return try await refreshHoldingLock(grantID: grantID, onDemand: onDemand, forcedBelow: forcedBelow, claims: claims, lease: lease)
            } catch is CancellationError {
                return false
            } catch let error as TenantSyncError where error.code == .leaseLost {
                // Another node may hold the grant now: it refreshes from the stored token set, which this node left
                // as it was (a token Microsoft issued here after the lease ended is discarded, never stored).
                logger.warning(
                    "Token refresh abandoned: this node no longer holds the grant's lease",
                    metadata: error.context.mapValues { .string($0) }.merging(["grant.id": "\(grantID)"]) { $1 }
                )
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

    private func refreshHoldingLock(grantID: Int64, onDemand: Bool, forcedBelow: Int?, claims: String?, lease: Lease?) async throws -> Bool {
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
        // The last moment to stop before Microsoft rotates the refresh token: past it, only the fenced write can.
        if let lease, let leasing, !leasing.holds(lease) { throw lease.lostError }
        let fresh: TokenSet
        let requestedAt = ContinuousClock.now
        do {
            fresh = try await granter.refreshTokens(grant: snapshot.grant, account: account, tenant: tenant, current: current, claims: claims)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let result = try await recordFailure(error, snapshot: snapshot, current: current, subject: subject, lease: lease, metadata: &metadata)
            metrics?.tokenRefreshFinished(result: result, duration: requestedAt.duration(to: .now))
            return false
        }
        metrics?.tokenRefreshFinished(result: .ok, duration: requestedAt.duration(to: .now))
        let nextRefreshAt = configuration.schedule.nextRefresh(for: fresh, random: random())
        // The commit comes before anything can read the new access token.
        let stored = if let lease, let leasing {
            try await leasing.leaseStore.storeRefreshedTokenSet(
                grantID: grantID, tokens: fresh, nextRefreshAt: nextRefreshAt, expectedGeneration: snapshot.generation, at: now(), under: lease
            )
        } else {
            try await storage.storeRefreshedTokenSet(
                grantID: grantID, tokens: fresh, nextRefreshAt: nextRefreshAt, expectedGeneration: snapshot.generation, at: now()
            )
        }
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
        _ error: any Error, snapshot: TokenSnapshot, current: TokenSet, subject: TokenAlertComposer.Subject, lease: Lease?,
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
            let nextRefreshAt = at.addingTimeInterval(delay.secondsDouble)
            let alert: @Sendable (Incident) -> NewAlert = { TokenAlertComposer.refreshFailing(subject, incident: $0, failure: failure) }
            let outcome = if let lease, let leasing {
                try await leasing.leaseStore.recordTransientFailure(
                    grantID: snapshot.grant.id, outcome: "transient: \(failure.summary)", at: at, nextRefreshAt: nextRefreshAt,
                    incident: report, alert: alert, channels: channels, under: lease
                )
            } else {
                try await storage.recordTransientFailure(
                    grantID: snapshot.grant.id, outcome: "transient: \(failure.summary)", at: at, nextRefreshAt: nextRefreshAt,
                    incident: report, alert: alert, channels: channels
                )
            }
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
            let report = incidentReport(.tokenInvalid, snapshot: snapshot, failure: failure, at: at)
            let alert: @Sendable (Incident) -> NewAlert = { TokenAlertComposer.tokenInvalid(subject, incident: $0, reason: reason) }
            let outcome = if let lease, let leasing {
                try await leasing.leaseStore.invalidateGrant(
                    grantID: snapshot.grant.id, outcome: "permanent: \(failure.summary)", report: report, alert: alert, channels: channels, under: lease
                )
            } else {
                try await storage.invalidateGrant(
                    grantID: snapshot.grant.id, outcome: "permanent: \(failure.summary)", report: report, alert: alert, channels: channels
                )
            }
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
