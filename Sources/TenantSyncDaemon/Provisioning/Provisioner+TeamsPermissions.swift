import Foundation
import MicrosoftCloud
import TenantSyncCore

/// Teams Chat: proving the app's permissions with Graph calls that need them.
///
/// Access tokens are opaque to clients (Microsoft: "don't validate or read tokens for an API
/// you don't own"), so the roles are never read from the token. Each permission is exercised
/// instead: reads where a read needs exactly that permission, and for the write permissions a
/// PATCH of an item that does not exist — Graph authorizes before it resolves the item, so a
/// 403 `Authorization_RequestDenied` means the permission is missing and a 404 means it is
/// there, and nothing is changed either way.
extension Provisioner {
    /// An id that names no chat, message or drive item.
    static let absentItemID = "00000000-0000-0000-0000-000000000000"

    /// The Graph calls ``verifyTeamsPermissions(appID:tenant:accessToken:model:)`` makes (one per permission).
    static let teamsPermissionProbeCount = 5

    /// Probes each permission Teams Chat protection needs; a refusal names every missing one.
    func verifyTeamsPermissions(appID: String, tenant: Tenant, accessToken: Secret, model: LicensingModel?) async throws {
        var missing: [String] = []
        var userID = Self.absentItemID

        // User.Read.All: list users (its first id also serves the per-user probes).
        if try await refused({
            let page = try await graph.page(graph.url("/users?$top=1&$select=id"), as: GraphIDOnly.self, accessToken: accessToken)
            // Graph's id goes into the probes' paths: a GUID or nothing.
            if let first = page.value.first, GraphPathSegment.isGUID(first.id) { userID = first.id }
        }) {
            missing.append("User.Read.All")
        }
        // Group.Read.All: list groups.
        if try await refused({ _ = try await graph.page(graph.url("/groups?$top=1&$select=id"), as: GraphIDOnly.self, accessToken: accessToken) }) {
            missing.append("Group.Read.All")
        }
        // Chat.Read.All: the export API the scanner reads messages with (Chat.ReadBasic.All is not enough for it),
        // with the licensing model as the `model` parameter (none means evaluation mode).
        var messages = "/users/\(userID)/chats/getAllMessages?$top=1"
        if let model, model != .evaluation { messages += "&model=\(model.rawValue)" }
        if try await refused({ _ = try await graph.get(graph.url(messages), accessToken: accessToken, eventualConsistency: false) }) {
            missing.append("Chat.Read.All")
        }
        // Chat.UpdatePolicyViolation.All: the DLP verdict on a message, written to a message that does not exist.
        let verdict = Data(#"{"policyViolation":{"dlpAction":"none","verdictDetails":"none"}}"#.utf8)
        if try await refused({
            _ = try await graph.patch(graph.url("/chats/\(Self.absentItemID)/messages/\(Self.absentItemID)"), json: verdict, accessToken: accessToken)
        }) {
            missing.append("Chat.UpdatePolicyViolation.All")
        }
        // Files.ReadWrite.All: a write to a drive item that does not exist (Files.Read.All would pass a read).
        if try await refused({
            _ = try await graph.patch(graph.url("/users/\(userID)/drive/items/\(Self.absentItemID)"), json: Data("{}".utf8), accessToken: accessToken)
        }) {
            missing.append("Files.ReadWrite.All")
        }
        guard missing.isEmpty else {
            throw TenantSyncError(
                .invalidArgument,
                "The app \(appID) lacks the Microsoft Graph application permission(s) \(missing.joined(separator: ", ")) in \(tenant.domain) "
                    + "(or they are not admin-consented). Add them in Microsoft Entra ID > App registrations > API permissions, "
                    + "grant admin consent, then retry.",
                context: ["app.id": appID, "permissions.missing": missing.joined(separator: ",")]
            )
        }
    }

    /// Whether the probe was refused for lack of permission; "not found" means it was authorized.
    private func refused(_ probe: () async throws -> Void) async throws -> Bool {
        do {
            try await probe()
            return false
        } catch let error as GraphError where error.kind == .forbidden {
            return true
        } catch let error as GraphError where error.kind == .notFound {
            return false
        }
    }
}
