/// A directory role held by an app's service principal: active, or eligible through PIM.
public struct RoleAssignment: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// Listed by `/roleManagement/directory/roleAssignments`.
        case active
        /// Listed by `/roleManagement/directory/roleEligibilitySchedules` (Privileged Identity Management).
        case eligible
    }

    public var id: String
    public var appId: String
    public var principalId: String
    public var roleDefinitionId: String
    public var kind: Kind

    /// Template id of the built-in "Exchange Administrator" role.
    public static let exchangeAdministratorRoleID = "29232cdf-9323-42fd-ade2-1d097af3e4de"
}
