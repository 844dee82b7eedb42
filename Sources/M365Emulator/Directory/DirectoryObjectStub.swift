/// A directory object that is neither a user nor a group but can be a group member: an organizational contact,
/// a service principal or a device. Graph lists such members with their own `@odata.type` in
/// `groups/{id}/members` and in `members@delta`, so clients must expect more than users and groups.
struct DirectoryObjectStub {
    /// The kinds of non-user, non-group members Graph returns.
    static let knownTypes = ["orgContact", "servicePrincipal", "device"]

    var id: String
    /// `orgContact`, `servicePrincipal` or `device` (written as `#microsoft.graph.<type>`).
    var type: String
    var displayName: String

    func write(into w: inout JSONWriter) {
        w.raw("{\"@odata.type\":"); w.string("#microsoft.graph.\(type)")
        w.raw(",\"id\":"); w.string(id)
        w.raw(",\"displayName\":"); w.string(displayName)
        w.raw("}")
    }
}

/// A directory object as the admin API shows it (contacts, service principals, devices).
public struct DirectoryObjectInfo: Sendable, Codable, Equatable {
    public var id: String
    public var type: String
    public var displayName: String
}

/// Fields for creating a contact, service principal or device the admin API can then add to groups.
public struct DirectoryObjectDraft: Sendable, Codable, Equatable {
    public var id: String?
    /// `orgContact`, `servicePrincipal` or `device`.
    public var type: String
    public var displayName: String?

    public init(id: String? = nil, type: String, displayName: String? = nil) {
        self.id = id
        self.type = type
        self.displayName = displayName
    }
}
