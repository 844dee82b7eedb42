/// A user as the admin API shows it.
public struct UserInfo: Sendable, Codable, Equatable {
    public var id: String
    public var userPrincipalName: String
    public var displayName: String
    public var mail: String?
    public var accountEnabled: Bool
    public var state: ObjectState
}

/// Fields for creating or updating a user; nil leaves a field as it is (or generates it on create).
public struct UserDraft: Sendable, Codable, Equatable {
    public var id: String?
    public var userPrincipalName: String?
    public var displayName: String?
    public var givenName: String?
    public var surname: String?
    public var mail: String?
    public var jobTitle: String?
    public var accountEnabled: Bool?

    public init(id: String? = nil, userPrincipalName: String? = nil, displayName: String? = nil,
                givenName: String? = nil, surname: String? = nil, mail: String? = nil,
                jobTitle: String? = nil, accountEnabled: Bool? = nil) {
        self.id = id
        self.userPrincipalName = userPrincipalName
        self.displayName = displayName
        self.givenName = givenName
        self.surname = surname
        self.mail = mail
        self.jobTitle = jobTitle
        self.accountEnabled = accountEnabled
    }
}

/// A group as the admin API shows it.
public struct GroupInfo: Sendable, Codable, Equatable {
    public var id: String
    public var displayName: String
    public var memberCount: Int
    public var state: ObjectState
}

/// Fields for creating a group.
public struct GroupDraft: Sendable, Codable, Equatable {
    public var id: String?
    public var displayName: String
    public var description: String?
    public var mailEnabled: Bool?
    public var securityEnabled: Bool?

    public init(id: String? = nil, displayName: String, description: String? = nil,
                mailEnabled: Bool? = nil, securityEnabled: Bool? = nil) {
        self.id = id
        self.displayName = displayName
        self.description = description
        self.mailEnabled = mailEnabled
        self.securityEnabled = securityEnabled
    }
}
