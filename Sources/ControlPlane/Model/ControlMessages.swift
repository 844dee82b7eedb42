// Parameter and reply objects of the methods whose handler API takes or
// returns plain values; the interface wraps those in a named field.

struct InterfaceParameters: Codable, Sendable { var interface: String }
struct DescriptionReply: Codable, Sendable { var description: String }
struct TenantParameters: Codable, Sendable { var tenant: String }
struct IDParameters: Codable, Sendable { var id: Int64 }
struct SearchGroupsParameters: Codable, Sendable {
    var tenant: String
    var prefix: String
}
struct AccountReply: Codable, Sendable { var account: AccountDetail }
struct StepReply: Codable, Sendable { var step: ProvisionStep }
struct DeprovisionReply: Codable, Sendable { var account: AccountRef }
struct ProgressReply: Codable, Sendable { var progress: SyncProgress }
struct GroupsReply: Codable, Sendable { var groups: [GroupMatch] }
struct AlertReply: Codable, Sendable { var alert: AlertInfo }
struct ReloadReply: Codable, Sendable { var changed: [String] }
struct RunReply: Codable, Sendable { var run: SyncRunInfo }
struct DirectoryReply: Codable, Sendable { var directory: DirectoryInfo }
struct DirectoryUserReply: Codable, Sendable { var user: DirectoryUserInfo }
struct NodesReply: Codable, Sendable { var nodes: [NodeInfo] }
