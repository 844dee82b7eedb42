/// A directory role held by an app's service principal: active (directly or through PIM), or only eligible through PIM.
public struct RoleAssignment: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// A plain active assignment (no Privileged Identity Management): listed by `/roleManagement/directory/roleAssignments`.
        case active
        /// An active assignment made through Privileged Identity Management (the "Active assignments" tab of the Entra admin center): in effect,
        /// so listed by `roleAssignments`, and also by `roleAssignmentScheduleInstances` with its schedule.
        case pimActive = "pim-active"
        /// Eligible through Privileged Identity Management: listed by `roleEligibilitySchedules` only. Not in effect: an
        /// eligible assignment has to be activated, and an app (no interactive sign-in) cannot activate one.
        case eligible
    }

    public var id: String
    public var appId: String
    public var principalId: String
    public var roleDefinitionId: String
    public var kind: Kind
    /// When a time-bound PIM assignment ends (ISO 8601); `nil` for a permanent one.
    public var endDateTime: String?

    /// Whether the role is in effect (Exchange and Graph honour it).
    public var isInEffect: Bool { kind != .eligible }

    /// Template id of the built-in "Exchange Administrator" role.
    public static let exchangeAdministratorRoleID = "29232cdf-9323-42fd-ade2-1d097af3e4de"
}
