/// Lifecycle of a directory object: Graph lists only `active` ones; delta reports the others as `@removed`.
public enum ObjectState: String, Sendable, Codable {
    case active
    /// In the recycle bin: delta reports `@removed: {reason: changed}` (restorable for 30 days).
    case softDeleted
    /// Permanently deleted: delta reports `@removed: {reason: deleted}`.
    case hardDeleted
}

/// One user of an emulated tenant, with its default Graph representation cached as JSON bytes.
struct EmulatedUser {
    var id: String
    var userPrincipalName: String
    var displayName: String
    var givenName: String?
    var surname: String?
    var mail: String?
    var jobTitle: String?
    var accountEnabled: Bool
    var state: ObjectState = .active
    /// Directory version of the last change (delta tokens compare against it).
    var version: UInt64
    /// The object as Graph returns it without `$select`.
    var json: [UInt8] = []

    /// Properties Graph v1.0 returns by default for a user (the docs' default set).
    static let defaultProperties = ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                                    "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"]
    static let knownProperties = Set(defaultProperties + ["accountEnabled", "userType", "mailNickname"])

    mutating func refreshJSON() {
        var w = JSONWriter(capacity: 320)
        write(into: &w, select: nil)
        json = w.bytes
    }

    /// Writes the object; `select` nil means the default property set.
    func write(into w: inout JSONWriter, select: [String]?) {
        guard let select else {
            if !json.isEmpty { w.raw(bytes: json); return }
            w.raw("{")
            for name in Self.defaultProperties { writeProperty(name, into: &w); w.comma() }
            w.dropTrailingComma()
            w.raw("}")
            return
        }
        w.raw("{")
        var wroteID = false
        for name in select {
            if name == "id" { wroteID = true }
            writeProperty(name, into: &w)
            w.comma()
        }
        // Graph always returns the id, even when $select omits it.
        if !wroteID { writeProperty("id", into: &w) }
        w.dropTrailingComma()
        w.raw("}")
    }

    func writeProperty(_ name: String, into w: inout JSONWriter) {
        w.key(name)
        switch name {
        case "id": w.string(id)
        case "userPrincipalName": w.string(userPrincipalName)
        case "displayName": w.string(displayName)
        case "givenName": w.optionalString(givenName)
        case "surname": w.optionalString(surname)
        case "mail": w.optionalString(mail)
        case "jobTitle": w.optionalString(jobTitle)
        case "accountEnabled": w.bool(accountEnabled)
        case "businessPhones": w.raw("[]")
        case "userType": w.string("Member")
        case "mailNickname": w.string(String(userPrincipalName.prefix { $0 != "@" }))
        default: w.raw("null")
        }
    }
}
