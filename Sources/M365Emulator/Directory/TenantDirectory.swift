/// The users and groups of one tenant in compact arrays, with a version counter for delta queries.
///
/// Objects are never removed from the arrays (hard deletes leave a tombstone), so an index
/// stays valid for the life of the emulator and paging positions are stable.
final class TenantDirectory {
    private(set) var users: [EmulatedUser] = []
    private(set) var groups: [EmulatedGroup] = []
    private var userIndexByID: [String: Int32] = [:]
    private var userIndexByUPN: [String: Int32] = [:]
    private var groupIndexByID: [String: Int32] = [:]
    /// Contacts, service principals and devices that can be group members.
    private(set) var others: [DirectoryObjectStub] = []
    private var otherIndexByID: [String: Int32] = [:]
    private(set) var membershipLog: [MembershipChange] = []
    /// The directory version: bumped by every change; objects carry the version of their last change.
    private(set) var version: UInt64 = 1
    let domain: String
    private var idGenerator: SeededGenerator

    init(domain: String, seed: UInt64) {
        self.domain = domain
        self.idGenerator = SeededGenerator(seed: seed ^ 0x5EED_1D5)
    }

    var activeUserCount: Int { users.reduce(0) { $1.state == .active ? $0 + 1 : $0 } }
    var activeGroupCount: Int { groups.reduce(0) { $1.state == .active ? $0 + 1 : $0 } }

    // MARK: Lookup

    func userIndex(idOrUPN key: String) -> Int? {
        if let i = userIndexByID[key.lowercased()] { return Int(i) }
        if let i = userIndexByUPN[key.lowercased()] { return Int(i) }
        return nil
    }

    func groupIndex(id: String) -> Int? { groupIndexByID[id.lowercased()].map(Int.init) }

    func memberIndex(id: String) -> MemberRef? {
        if let u = userIndexByID[id.lowercased()] { return .user(u) }
        if let g = groupIndexByID[id.lowercased()] { return .group(g) }
        if let o = otherIndexByID[id.lowercased()] { return .other(o) }
        return nil
    }

    /// The id Graph shows for a member.
    func id(of member: MemberRef) -> String {
        switch member {
        case .user(let u): users[Int(u)].id
        case .group(let g): groups[Int(g)].id
        case .other(let o): others[Int(o)].id
        }
    }

    func userInfo(_ i: Int) -> UserInfo {
        let u = users[i]
        return UserInfo(id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName,
                        mail: u.mail, accountEnabled: u.accountEnabled, state: u.state)
    }

    func groupInfo(_ i: Int) -> GroupInfo {
        let g = groups[i]
        return GroupInfo(id: g.id, displayName: g.displayName, memberCount: g.members.count, state: g.state)
    }

    // MARK: Mutations

    private func bump() -> UInt64 {
        version += 1
        return version
    }

    @discardableResult
    func addUser(_ draft: UserDraft) throws(EmulatorError) -> Int {
        let upn = draft.userPrincipalName ?? "user\(users.count + 1)@\(domain)"
        guard upn.contains("@") else { throw .badRequest("userPrincipalName must contain '@'") }
        guard userIndexByUPN[upn.lowercased()] == nil else {
            throw .conflict("A user with userPrincipalName '\(upn)' already exists")
        }
        let id = (draft.id ?? idGenerator.guid()).lowercased()
        guard userIndexByID[id] == nil, groupIndexByID[id] == nil, otherIndexByID[id] == nil else {
            throw .conflict("An object with id '\(id)' already exists")
        }
        var user = EmulatedUser(
            id: id, userPrincipalName: upn,
            displayName: draft.displayName ?? String(upn.prefix { $0 != "@" }),
            givenName: draft.givenName, surname: draft.surname, mail: draft.mail ?? upn,
            jobTitle: draft.jobTitle, accountEnabled: draft.accountEnabled ?? true, version: bump())
        user.refreshJSON()
        let index = users.count
        users.append(user)
        userIndexByID[id] = Int32(index)
        userIndexByUPN[upn.lowercased()] = Int32(index)
        return index
    }

    func updateUser(_ index: Int, _ draft: UserDraft) throws(EmulatorError) {
        guard users[index].state == .active else { throw .notFound("User '\(users[index].id)' is deleted") }
        if let upn = draft.userPrincipalName, upn.lowercased() != users[index].userPrincipalName.lowercased() {
            guard upn.contains("@") else { throw .badRequest("userPrincipalName must contain '@'") }
            guard userIndexByUPN[upn.lowercased()] == nil else {
                throw .conflict("A user with userPrincipalName '\(upn)' already exists")
            }
            userIndexByUPN[users[index].userPrincipalName.lowercased()] = nil
            userIndexByUPN[upn.lowercased()] = Int32(index)
            users[index].userPrincipalName = upn
        }
        if let v = draft.displayName { users[index].displayName = v }
        if let v = draft.givenName { users[index].givenName = v }
        if let v = draft.surname { users[index].surname = v }
        if let v = draft.mail { users[index].mail = v }
        if let v = draft.jobTitle { users[index].jobTitle = v }
        if let v = draft.accountEnabled { users[index].accountEnabled = v }
        users[index].version = bump()
        users[index].refreshJSON()
    }

    /// Soft delete moves the user to the recycle bin; hard delete removes it for good (and from every group).
    func deleteUser(_ index: Int, hard: Bool) throws(EmulatorError) {
        switch (users[index].state, hard) {
        case (.hardDeleted, _): throw .notFound("User '\(users[index].id)' does not exist")
        case (.softDeleted, false): throw .notFound("User '\(users[index].id)' is already deleted")
        default: break
        }
        let wasActive = users[index].state == .active
        users[index].state = hard ? .hardDeleted : .softDeleted
        users[index].version = bump()
        if wasActive || hard { removeFromAllGroups(.user(Int32(index))) }
        if hard {
            userIndexByUPN[users[index].userPrincipalName.lowercased()] = nil
        }
    }

    func restoreUser(_ index: Int) throws(EmulatorError) {
        guard users[index].state == .softDeleted else { throw .badRequest("Only a soft-deleted user can be restored") }
        users[index].state = .active
        users[index].version = bump()
    }

    @discardableResult
    func addGroup(_ draft: GroupDraft) throws(EmulatorError) -> Int {
        let id = (draft.id ?? idGenerator.guid()).lowercased()
        guard userIndexByID[id] == nil, groupIndexByID[id] == nil, otherIndexByID[id] == nil else {
            throw .conflict("An object with id '\(id)' already exists")
        }
        let nickname = String(draft.displayName.filter { $0.isLetter || $0.isNumber }.prefix(40))
        let mailEnabled = draft.mailEnabled ?? false
        let group = EmulatedGroup(
            id: id, displayName: draft.displayName, description: draft.description,
            mailNickname: nickname.isEmpty ? "group" : nickname,
            mail: mailEnabled ? "\(nickname.lowercased())@\(domain)" : nil,
            mailEnabled: mailEnabled, securityEnabled: draft.securityEnabled ?? true,
            groupTypes: mailEnabled ? ["Unified"] : [], version: bump())
        let index = groups.count
        groups.append(group)
        groupIndexByID[id] = Int32(index)
        return index
    }

    /// Adds a contact, service principal or device (not listed by `users` or `groups`; only as a member).
    @discardableResult
    func addOther(_ draft: DirectoryObjectDraft) throws(EmulatorError) -> Int {
        guard DirectoryObjectStub.knownTypes.contains(draft.type) else {
            throw .badRequest("type must be one of \(DirectoryObjectStub.knownTypes.joined(separator: ", "))")
        }
        let id = (draft.id ?? idGenerator.guid()).lowercased()
        guard userIndexByID[id] == nil, groupIndexByID[id] == nil, otherIndexByID[id] == nil else {
            throw .conflict("An object with id '\(id)' already exists")
        }
        let index = others.count
        others.append(DirectoryObjectStub(id: id, type: draft.type, displayName: draft.displayName ?? "\(draft.type) \(index + 1)"))
        otherIndexByID[id] = Int32(index)
        return index
    }

    func deleteGroup(_ index: Int) throws(EmulatorError) {
        guard groups[index].state == .active else { throw .notFound("Group '\(groups[index].id)' does not exist") }
        groups[index].state = .hardDeleted
        groups[index].version = bump()
        removeFromAllGroups(.group(Int32(index)))
    }

    func addMember(group: Int, member: MemberRef) throws(EmulatorError) {
        guard groups[group].state == .active else { throw .notFound("Group '\(groups[group].id)' does not exist") }
        switch member {
        case .user(let u): guard users[Int(u)].state == .active else { throw .notFound("The user is deleted") }
        case .group(let g):
            guard groups[Int(g)].state == .active else { throw .notFound("The member group is deleted") }
            guard !reaches(from: Int(g), to: group) else {
                throw .badRequest("Adding this group would create a membership cycle")
            }
        case .other: break
        }
        guard !groups[group].members.contains(member) else {
            // Graph answers 400 "One or more added object references already exist".
            throw .badRequest("One or more added object references already exist for the following modified properties: 'members'.")
        }
        let v = bump()
        groups[group].members.append(member)
        groups[group].version = v
        membershipLog.append(MembershipChange(version: v, group: Int32(group), member: member, added: true))
    }

    func removeMember(group: Int, member: MemberRef) throws(EmulatorError) {
        guard let position = groups[group].members.firstIndex(of: member) else {
            throw .notFound("The object is not a member of group '\(groups[group].id)'")
        }
        let v = bump()
        groups[group].members.remove(at: position)
        groups[group].version = v
        membershipLog.append(MembershipChange(version: v, group: Int32(group), member: member, added: false))
    }

    /// Bulk load used by the generator: no log entries, one version for all.
    func appendMembersUnlogged(group: Int, members: [MemberRef]) {
        groups[group].members.append(contentsOf: members)
    }

    private func removeFromAllGroups(_ member: MemberRef) {
        for g in groups.indices where groups[g].state == .active {
            if let position = groups[g].members.firstIndex(of: member) {
                let v = bump()
                groups[g].members.remove(at: position)
                groups[g].version = v
                membershipLog.append(MembershipChange(version: v, group: Int32(g), member: member, added: false))
            }
        }
    }

    private func reaches(from start: Int, to target: Int) -> Bool {
        if start == target { return true }
        var seen: Set<Int> = [start]
        var stack = [start]
        while let g = stack.popLast() {
            for case .group(let n) in groups[g].members {
                let next = Int(n)
                if next == target { return true }
                if seen.insert(next).inserted { stack.append(next) }
            }
        }
        return false
    }

    /// Direct or transitive members, in a stable order (breadth first, each object once).
    func members(of group: Int, transitive: Bool) -> [MemberRef] {
        guard transitive else { return groups[group].members }
        var result: [MemberRef] = []
        var seen: Set<MemberRef> = []
        var queue = groups[group].members[...]
        var visitedGroups: Set<Int> = [group]
        while let m = queue.popFirst() {
            guard seen.insert(m).inserted else { continue }
            result.append(m)
            if case .group(let g) = m, visitedGroups.insert(Int(g)).inserted {
                queue.append(contentsOf: groups[Int(g)].members)
            }
        }
        return result
    }
}
