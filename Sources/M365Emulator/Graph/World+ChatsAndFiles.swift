import Foundation

/// Teams chats and OneDrive items: just enough Graph for a client to prove it holds the permissions the
/// Teams Chat protection needs without reading the access token.
///
/// The emulator stores no chats and no drive items: listings are empty and lookups of one item answer
/// 404. As in Microsoft Graph, the permission check comes before the item is resolved, so a write to an
/// item that does not exist answers 403 `Authorization_RequestDenied` without the permission and 404
/// with it — a probe that changes nothing.
extension World {
    /// The permissions (any of) a chats/files route needs, or `nil` when `path` is not such a route.
    ///
    /// From the Microsoft Graph v1.0 permission tables (application permissions):
    /// `GET /users/{id}/chats` Chat.ReadBasic.All, Chat.Read.All, Chat.ReadWrite.All;
    /// `GET /users/{id}/chats/getAllMessages` Chat.Read.All, Chat.ReadWrite.All;
    /// `PATCH /chats/{id}/messages/{id}` (policyViolation) Chat.UpdatePolicyViolation.All;
    /// `GET /chats/{id}/messages` Chat.Read.All, Chat.ReadWrite.All;
    /// `GET /users/{id}/drive` Files.Read.All, Files.ReadWrite.All, Sites.Read.All, Sites.ReadWrite.All;
    /// `PATCH /users/{id}/drive/items/{id}` Files.ReadWrite.All, Sites.ReadWrite.All.
    static func chatsAndFilesPermissions(path: [String], method: String) -> [String]? {
        if path.count >= 3, path[0] == "users", path[2] == "chats" {
            if path.count >= 4, Self.isGetAllMessages(path[3]) { return ["Chat.Read.All", "Chat.ReadWrite.All"] }
            return ["Chat.ReadBasic.All", "Chat.Read.All", "Chat.ReadWrite.All"]
        }
        if path.count >= 3, path[0] == "users", path[2] == "drive" {
            return method == "GET" ? ["Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"]
                : ["Files.ReadWrite.All", "Sites.ReadWrite.All"]
        }
        if path.first == "chats" {
            if method == "PATCH", path.count == 4, path[2] == "messages" { return ["Chat.UpdatePolicyViolation.All"] }
            return ["Chat.Read.All", "Chat.ReadWrite.All"]
        }
        return nil
    }

    static func isGetAllMessages(_ segment: String) -> Bool {
        segment == "getAllMessages" || segment == "microsoft.graph.getAllMessages" || segment == "getAllMessages()"
            || segment == "microsoft.graph.getAllMessages()"
    }

    func chatsAndFiles(_ request: EmulatorRequest, path: [String], tenant: EmulatedTenant, baseURL: String) throws(GraphError) -> EmulatorResponse {
        if path[0] == "chats" {
            // No chats are stored: any chat (and any message in it) does not exist.
            throw GraphError(status: 404, code: "NotFound", message: "Chat '\(path.count > 1 ? path[1] : "")' not found.")
        }
        guard let u = tenant.directory.userIndex(idOrUPN: path[1]), tenant.directory.users[u].state == .active else {
            throw .notFound(path[1])
        }
        let user = tenant.directory.users[u]
        if path[2] == "chats" {
            if path.count >= 4 {
                guard Self.isGetAllMessages(path[3]), request.method == "GET" else { throw .noRoute }
                // Licensing: `model=A` or `model=B`; without it the call runs in evaluation mode.
                if let model = request.query["model"], model != "A", model != "B" {
                    throw .badRequest("Invalid model '\(model)'. Supported values are 'A' and 'B'.")
                }
                return Self.emptyPage(context: "\(baseURL)/v1.0/$metadata#Collection(chatMessage)")
            }
            guard request.method == "GET" else { throw .noRoute }
            return Self.emptyPage(context: "\(baseURL)/v1.0/$metadata#users('\(user.id)')/chats")
        }
        // path[2] == "drive"
        if path.count == 3 {
            guard request.method == "GET" else { throw .noRoute }
            var w = JSONWriter()
            w.raw("{\"@odata.context\":"); w.string("\(baseURL)/v1.0/$metadata#drives/$entity"); w.comma()
            w.key("id"); w.string("b!" + user.id.replacingOccurrences(of: "-", with: "")); w.comma()
            w.key("driveType"); w.string("business"); w.comma()
            w.key("owner"); w.raw("{\"user\":{")
            w.key("id"); w.string(user.id); w.comma()
            w.key("displayName"); w.string(user.displayName)
            w.raw("}}}")
            return .json(200, w)
        }
        guard path.count == 5, path[3] == "items" else { throw .noRoute }
        throw GraphError(status: 404, code: "itemNotFound", message: "The resource could not be found.")
    }

    static func emptyPage(context: String) -> EmulatorResponse {
        var w = JSONWriter()
        w.raw("{\"@odata.context\":"); w.string(context); w.raw(",\"value\":[]}")
        return .json(200, w)
    }
}
