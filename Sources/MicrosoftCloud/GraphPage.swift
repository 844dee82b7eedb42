/// One page of a Graph collection: its items and the link to the next page or the delta link.
public struct GraphPage<Item: Decodable & Sendable>: Decodable, Sendable {
    public var value: [Item]
    public var nextLink: String?
    public var deltaLink: String?

    enum CodingKeys: String, CodingKey {
        case value
        case nextLink = "@odata.nextLink"
        case deltaLink = "@odata.deltaLink"
    }
}

extension GraphPage: Equatable where Item: Equatable {}

/// The `@removed` annotation of a delta item.
public struct GraphRemoved: Decodable, Sendable, Equatable {
    /// `changed` (soft-deleted, restorable for 30 days) or `deleted` (gone for good).
    public var reason: String
}

/// A user as Graph returns it with `$select=id,userPrincipalName,displayName,mail,accountEnabled`.
public struct GraphUser: Decodable, Sendable, Equatable {
    public var id: String
    public var userPrincipalName: String?
    public var displayName: String?
    public var mail: String?
    public var accountEnabled: Bool?
    public var removed: GraphRemoved?

    enum CodingKeys: String, CodingKey {
        case id, userPrincipalName, displayName, mail, accountEnabled
        case removed = "@removed"
    }
}

/// A directory object reference (a group member).
public struct GraphDirectoryObject: Decodable, Sendable, Equatable {
    public var id: String
    /// `#microsoft.graph.user`, `#microsoft.graph.group`, ...
    public var odataType: String?
    public var removed: GraphRemoved?

    enum CodingKeys: String, CodingKey {
        case id
        case odataType = "@odata.type"
        case removed = "@removed"
    }
}

/// A group as Graph returns it, with `members@delta` on delta pages.
public struct GraphGroup: Decodable, Sendable, Equatable {
    public var id: String
    public var displayName: String?
    public var mail: String?
    public var removed: GraphRemoved?
    public var membersDelta: [GraphDirectoryObject]?

    enum CodingKeys: String, CodingKey {
        case id, displayName, mail
        case removed = "@removed"
        case membersDelta = "members@delta"
    }
}
