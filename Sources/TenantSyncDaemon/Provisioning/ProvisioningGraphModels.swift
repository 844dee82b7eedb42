/// `GET /organization`: the tenant id, name and verified domains.
struct GraphOrganizationList: Decodable, Sendable {
    struct Organization: Decodable, Sendable {
        struct VerifiedDomain: Decodable, Sendable {
            var name: String
            var isDefault: Bool?
        }

        var id: String
        var displayName: String?
        var verifiedDomains: [VerifiedDomain]?
    }

    var value: [Organization]
}

/// One service principal of `/servicePrincipals?$filter=appId eq '…'`.
struct GraphServicePrincipal: Decodable, Sendable {
    var id: String
    var appId: String?
}

/// One role assignment, eligibility schedule or assignment schedule instance.
struct GraphRoleAssignment: Decodable, Sendable {
    var id: String
    var principalId: String
    var roleDefinitionId: String
    /// Schedule instances only: when a time-bound PIM assignment ends (ISO 8601), `nil` when permanent.
    var endDateTime: String?
}

/// Any directory object with an id (for permission probes).
struct GraphIDOnly: Decodable, Sendable {
    var id: String
}
