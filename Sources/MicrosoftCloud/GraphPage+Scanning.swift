/// A page item the strict ``GraphJSONScanner`` reads without `JSONDecoder`.
///
/// `scan` must accept exactly what the type's `Decodable` conformance would decode to the same
/// value, and throw ``GraphJSONScanner/Unsupported`` for everything else.
protocol GraphScannable: Decodable, Sendable {
    static func scan(_ scanner: inout GraphJSONScanner) throws(GraphJSONScanner.Unsupported) -> Self
}

extension GraphPage {
    /// The page read by the strict scanner, or `nil` when the bytes must go through `JSONDecoder`.
    static func scanned(_ bytes: UnsafeRawBufferPointer) -> GraphPage<Item>? {
        guard let itemType = Item.self as? any GraphScannable.Type else { return nil }
        return scannedPage(bytes, itemType) as? GraphPage<Item>
    }
}

/// `Any?` so that the caller's existential item type opens here (a `GraphPage<Item>` result would not let it).
private func scannedPage<Item: GraphScannable>(_ bytes: UnsafeRawBufferPointer, _: Item.Type) -> Any? {
    var scanner = GraphJSONScanner(bytes)
    var items: [Item]?
    var nextLink: String??
    var deltaLink: String??
    do {
        try scanner.readObject { scanner, key throws(GraphJSONScanner.Unsupported) in
            if scanner.key(key, is: "value") {
                guard items == nil else { throw GraphJSONScanner.Unsupported() }
                var read: [Item] = []
                read.reserveCapacity(64)
                try scanner.readArray { scanner throws(GraphJSONScanner.Unsupported) in read.append(try Item.scan(&scanner)) }
                items = read
            } else if scanner.key(key, is: "@odata.nextLink") {
                guard nextLink == nil else { throw GraphJSONScanner.Unsupported() }
                nextLink = .some(try scanner.readOptionalString())
            } else if scanner.key(key, is: "@odata.deltaLink") {
                guard deltaLink == nil else { throw GraphJSONScanner.Unsupported() }
                deltaLink = .some(try scanner.readOptionalString())
            } else {
                try scanner.skipValue(depth: 1)
            }
        }
        try scanner.finish()
    } catch {
        return nil
    }
    guard let items else { return nil }
    return GraphPage(value: items, nextLink: nextLink ?? nil, deltaLink: deltaLink ?? nil)
}

/// Tracks which known members an object had, so that a repeated one gives up.
private struct SeenMembers {
    private var bits: UInt8 = 0

    mutating func insert(_ bit: UInt8) throws(GraphJSONScanner.Unsupported) {
        guard bits & bit == 0 else { throw GraphJSONScanner.Unsupported() }
        bits |= bit
    }
}

extension GraphRemoved {
    /// `null` or `{"reason": "..."}` (other members skipped); `nil` for `null`.
    static func scanOptional(_ scanner: inout GraphJSONScanner) throws(GraphJSONScanner.Unsupported) -> GraphRemoved? {
        if try scanner.readNull() { return nil }
        var reason: String?
        try scanner.readObject { scanner, key throws(GraphJSONScanner.Unsupported) in
            if scanner.key(key, is: "reason") {
                guard reason == nil else { throw GraphJSONScanner.Unsupported() }
                reason = try scanner.readString()
            } else {
                try scanner.skipValue(depth: 3)
            }
        }
        guard let reason else { throw GraphJSONScanner.Unsupported() }
        return GraphRemoved(reason: reason)
    }
}

extension GraphUser: GraphScannable {
    static func scan(_ scanner: inout GraphJSONScanner) throws(GraphJSONScanner.Unsupported) -> GraphUser {
        var seen = SeenMembers()
        var id: String?
        var user = GraphUser(id: "", userPrincipalName: nil, displayName: nil, mail: nil, accountEnabled: nil, removed: nil)
        try scanner.readObject { scanner, key throws(GraphJSONScanner.Unsupported) in
            if scanner.key(key, is: "id") {
                try seen.insert(1)
                id = try scanner.readString()
            } else if scanner.key(key, is: "userPrincipalName") {
                try seen.insert(2)
                user.userPrincipalName = try scanner.readOptionalString()
            } else if scanner.key(key, is: "displayName") {
                try seen.insert(4)
                user.displayName = try scanner.readOptionalString()
            } else if scanner.key(key, is: "mail") {
                try seen.insert(8)
                user.mail = try scanner.readOptionalString()
            } else if scanner.key(key, is: "accountEnabled") {
                try seen.insert(16)
                user.accountEnabled = try scanner.readOptionalBool()
            } else if scanner.key(key, is: "@removed") {
                try seen.insert(32)
                user.removed = try GraphRemoved.scanOptional(&scanner)
            } else {
                try scanner.skipValue(depth: 2)
            }
        }
        guard let id else { throw GraphJSONScanner.Unsupported() }
        user.id = id
        return user
    }
}

extension GraphDirectoryObject: GraphScannable {
    static func scan(_ scanner: inout GraphJSONScanner) throws(GraphJSONScanner.Unsupported) -> GraphDirectoryObject {
        try scan(&scanner, depth: 2)
    }

    /// `depth` is the object's own nesting level (2 in a page's `value`, 4 in a group's `members@delta`).
    static func scan(_ scanner: inout GraphJSONScanner, depth: Int) throws(GraphJSONScanner.Unsupported) -> GraphDirectoryObject {
        var seen = SeenMembers()
        var id: String?
        var object = GraphDirectoryObject(id: "", odataType: nil, removed: nil)
        try scanner.readObject { scanner, key throws(GraphJSONScanner.Unsupported) in
            if scanner.key(key, is: "id") {
                try seen.insert(1)
                id = try scanner.readString()
            } else if scanner.key(key, is: "@odata.type") {
                try seen.insert(2)
                object.odataType = try scanner.readOptionalString()
            } else if scanner.key(key, is: "@removed") {
                try seen.insert(4)
                object.removed = try GraphRemoved.scanOptional(&scanner)
            } else {
                try scanner.skipValue(depth: depth)
            }
        }
        guard let id else { throw GraphJSONScanner.Unsupported() }
        object.id = id
        return object
    }
}

extension GraphGroup: GraphScannable {
    static func scan(_ scanner: inout GraphJSONScanner) throws(GraphJSONScanner.Unsupported) -> GraphGroup {
        var seen = SeenMembers()
        var id: String?
        var group = GraphGroup(id: "", displayName: nil, mail: nil, removed: nil, membersDelta: nil)
        try scanner.readObject { scanner, key throws(GraphJSONScanner.Unsupported) in
            if scanner.key(key, is: "id") {
                try seen.insert(1)
                id = try scanner.readString()
            } else if scanner.key(key, is: "displayName") {
                try seen.insert(2)
                group.displayName = try scanner.readOptionalString()
            } else if scanner.key(key, is: "mail") {
                try seen.insert(4)
                group.mail = try scanner.readOptionalString()
            } else if scanner.key(key, is: "@removed") {
                try seen.insert(8)
                group.removed = try GraphRemoved.scanOptional(&scanner)
            } else if scanner.key(key, is: "members@delta") {
                try seen.insert(16)
                if try scanner.readNull() {
                    group.membersDelta = nil
                } else {
                    var members: [GraphDirectoryObject] = []
                    try scanner.readArray { scanner throws(GraphJSONScanner.Unsupported) in
                        members.append(try GraphDirectoryObject.scan(&scanner, depth: 4))
                    }
                    group.membersDelta = members
                }
            } else {
                try scanner.skipValue(depth: 2)
            }
        }
        guard let id else { throw GraphJSONScanner.Unsupported() }
        group.id = id
        return group
    }
}
