/// The words of the token alerts: what happened, what it means, what to run.
///
/// Pure text building so that the wording is tested once, here, and every
/// channel (journal, e-mail, hooks) says the same.
public enum TokenAlertComposer {
    public static let tokenInvalidKind = "token-invalid"
    public static let refreshFailingKind = "token-refresh-failing"
    public static let renewedKind = "token-renewed"

    /// The facts an alert names.
    public struct Subject: Sendable, Equatable {
        public var tenantID: String
        public var tenantDomain: String
        public var service: ServiceKind
        public var accountID: Int64
        public var grantID: Int64
        public var grantName: String

        public init(tenantID: String, tenantDomain: String, service: ServiceKind, accountID: Int64, grantID: Int64, grantName: String) {
            self.tenantID = tenantID
            self.tenantDomain = tenantDomain
            self.service = service
            self.accountID = accountID
            self.grantID = grantID
            self.grantName = grantName
        }

        /// The exact command that renews the account.
        public var renewCommand: String { "tenantsyncctl renew \(accountID)" }

        /// The facts every token alert names.
        public var facts: AlertFacts {
            AlertFacts(
                tenantID: tenantID, tenantDomain: tenantDomain, service: service, accountID: accountID, grantID: grantID, grantName: grantName
            )
        }
    }

    /// The critical alert raised once per token-invalid incident.
    public static func tokenInvalid(_ subject: Subject, incident: Incident, reason: TokenErrorClass.PermanentReason) -> NewAlert {
        let code = incident.aadstsCode.map { "AADSTS\($0)" } ?? "none"
        let body = """
            The access token of the \(subject.service.displayName) service account of \(subject.tenantDomain) is invalid \
            (grant "\(subject.grantName)").
            While it is invalid the service cannot be protected: threat and data-loss scanning stop.
            Re-create the token to restore protection: run `\(subject.renewCommand)`.

            Why: \(reason.explanation)
            OAuth error: \(incident.error ?? "none")
            AADSTS code: \(code)
            Microsoft trace id: \(incident.traceID ?? "none")
            Correlation id: \(incident.correlationID ?? "none")
            First seen: \(incident.firstSeenAt)
            """
        return NewAlert(
            kind: tokenInvalidKind, severity: .critical, tenantID: subject.tenantID, accountID: subject.accountID,
            grantID: subject.grantID, incidentID: incident.id,
            subject: "\(subject.service.displayName) token invalid for \(subject.tenantDomain) (\(code))",
            body: body,
            facts: with(subject.facts) {
                $0.reason = reason.rawValue
                $0.oauthError = incident.error
                $0.aadstsCode = incident.aadstsCode
                $0.traceID = incident.traceID
                $0.correlationID = incident.correlationID
                $0.command = subject.renewCommand
            }
        )
    }

    /// The warning raised once when transient failures outlast the access token.
    public static func refreshFailing(_ subject: Subject, incident: Incident, failure: TokenFailure) -> NewAlert {
        let body = """
            The access token of the \(subject.service.displayName) service account of \(subject.tenantDomain) \
            (grant "\(subject.grantName)") expired because refreshing it keeps failing with a temporary error.
            tenantsync keeps retrying; protection resumes when a refresh succeeds. No action is needed unless this persists.

            Last failure: \(failure.summary)
            Microsoft trace id: \(failure.traceID ?? "none")
            First seen: \(incident.firstSeenAt)
            """
        return NewAlert(
            kind: refreshFailingKind, severity: .warning, tenantID: subject.tenantID, accountID: subject.accountID,
            grantID: subject.grantID, incidentID: incident.id,
            subject: "\(subject.service.displayName) token refresh failing for \(subject.tenantDomain)",
            body: body,
            facts: with(subject.facts) {
                $0.failure = failure.summary
                $0.traceID = failure.traceID
            }
        )
    }

    /// The event emitted when an administrator renewed a grant.
    public static func renewed(_ subject: Subject, accountState: AccountState, resolvedIncidents: Int) -> NewAlert {
        let body = """
            The token of the \(subject.service.displayName) service account of \(subject.tenantDomain) \
            (grant "\(subject.grantName)") was renewed by an administrator.
            Incidents closed: \(resolvedIncidents). Account state: \(accountState.rawValue).
            """
        return NewAlert(
            kind: renewedKind, severity: .info, tenantID: subject.tenantID, accountID: subject.accountID, grantID: subject.grantID,
            subject: "\(subject.service.displayName) token renewed for \(subject.tenantDomain)",
            body: body,
            facts: with(subject.facts) {
                $0.accountState = accountState
                $0.resolvedIncidents = resolvedIncidents
            }
        )
    }

    private static func with(_ facts: AlertFacts, _ change: (inout AlertFacts) -> Void) -> AlertFacts {
        var facts = facts
        change(&facts)
        return facts
    }
}
