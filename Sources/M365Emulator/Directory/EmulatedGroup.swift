/// A member of a group: a user, a nested group or another directory object, by index into the tenant's arrays.
enum MemberRef: Hashable, Sendable {
    case user(Int32)
    case group(Int32)
    /// A contact, service principal or device (`TenantDirectory.others`).
    case other(Int32)
}

/// One group of an emulated tenant.
struct EmulatedGroup {
    var id: String
    var displayName: String
    var description: String?
    var mailNickname: String
    var mail: String?
    var mailEnabled: Bool
    var securityEnabled: Bool
    var groupTypes: [String]
    var members: [MemberRef] = []
    var state: ObjectState = .active
    var version: UInt64

    static let defaultProperties = ["id", "description", "displayName", "groupTypes", "mail", "mailEnabled",
                                    "mailNickname", "securityEnabled"]
    static let knownProperties = Set(defaultProperties)

    func write(into w: inout JSONWriter, select: [String]?) {
        w.raw("{")
        let names = select ?? Self.defaultProperties
        for name in names { writeProperty(name, into: &w); w.comma() }
        if !names.contains("id") { writeProperty("id", into: &w) }
        w.dropTrailingComma()
        w.raw("}")
    }

    func writeProperty(_ name: String, into w: inout JSONWriter) {
        w.key(name)
        switch name {
        case "id": w.string(id)
        case "displayName": w.string(displayName)
        case "description": w.optionalString(description)
        case "mailNickname": w.string(mailNickname)
        case "mail": w.optionalString(mail)
        case "mailEnabled": w.bool(mailEnabled)
        case "securityEnabled": w.bool(securityEnabled)
        case "groupTypes":
            w.raw("[")
            for (i, t) in groupTypes.enumerated() { if i > 0 { w.comma() }; w.string(t) }
            w.raw("]")
        default: w.raw("null")
        }
    }
}

/// A membership change, kept so `groups/delta` can report `members@delta`.
struct MembershipChange {
    var version: UInt64
    var group: Int32
    var member: MemberRef
    var added: Bool
}
