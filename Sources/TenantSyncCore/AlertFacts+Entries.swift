extension AlertFacts {
    /// One present fact as text: its key, a label for people, its value as the journal and logs show it.
    public struct Entry: Sendable, Equatable {
        public var key: CodingKeys
        /// How a mail names the fact (`Microsoft trace id`).
        public var label: String
        /// The plain value (`exchange-online`, `70008`); channels that address people may dress it up.
        public var value: String
    }

    /// Every present fact in reading order (who, what Microsoft said, what to do, the rest).
    public var entries: [Entry] {
        var out: [Entry] = []
        func add(_ key: CodingKeys, _ label: String, _ value: String?) {
            if let value { out.append(Entry(key: key, label: label, value: value)) }
        }
        add(.tenantID, "Tenant id", tenantID)
        add(.tenantDomain, "Tenant", tenantDomain)
        add(.service, "Service", service?.rawValue)
        add(.serviceName, "Service name", service?.displayName)
        add(.accountID, "Account id", accountID.map(String.init))
        add(.accountState, "Account state", accountState?.rawValue)
        add(.grantID, "Grant id", grantID.map(String.init))
        add(.grantName, "Grant", grantName)
        add(.reason, "Reason", reason)
        add(.oauthError, "OAuth error", oauthError)
        add(.aadstsCode, "AADSTS code", aadstsCode.map(String.init))
        add(.traceID, "Microsoft trace id", traceID)
        add(.correlationID, "Correlation id", correlationID)
        add(.failure, "Last failure", failure)
        add(.resolvedIncidents, "Incidents resolved", resolvedIncidents.map(String.init))
        add(.provisioningStep, "Provisioning step", provisioningStep)
        add(.error, "Error", error)
        add(.syncRun, "Sync run", syncRun.map(String.init))
        add(.usersAdded, "Users added", usersAdded.map(String.init))
        add(.groupsAdded, "Groups added", groupsAdded.map(String.init))
        add(.usersBefore, "Protected users", usersBefore.map(String.init))
        add(.removedUsers, "Users to remove", removedUsers.map(String.init))
        add(.removedGroups, "Groups to remove", removedGroups.map(String.init))
        add(.removedShare, "Share removed", removedShare)
        add(.threshold, "Threshold", threshold)
        add(.budgetUsed, "Calls used", budgetUsed.map(String.init))
        add(.budgetLimit, "Monthly calls", budgetLimit.map(String.init))
        add(.budgetMonth, "Month", budgetMonth)
        add(.connector, "Connector", connector)
        add(.credentialKind, "Credential", credentialKind)
        add(.credentialAppID, "Application id", credentialAppID)
        add(.credentialThumbprint, "Certificate thumbprint", credentialThumbprint)
        add(.credentialExpires, "Expires", credentialExpires)
        add(.credentialDaysLeft, "Days left", credentialDaysLeft.map(String.init))
        add(.command, "Command", command)
        add(.confirmCommand, "Confirm with", confirmCommand)
        add(.discardCommand, "Discard with", discardCommand)
        return out
    }

    /// `AADSTS70008`, the way Microsoft and the console write the code.
    public var aadstsText: String? { aadstsCode.map { "AADSTS\($0)" } }
}
