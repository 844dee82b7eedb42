import MicrosoftCloud
import TenantSyncCore

/// Turns the pages of one full `/groups/delta?$select=displayName,mail,members` round into directory batches.
///
/// One round reads every group with its members ("Get incremental changes for groups"), about one request per
/// thousand member entries instead of one request per group. A large membership is split across pages: the same
/// group object comes again with more `members@delta` ("Paging through members in a large group").
///
/// The rule that keeps a membership from being written half-read: a group whose members do not fit ends its page
/// and continues at the start of the next one, so **the last group of a page stays open** (buffered, merging what
/// the next pages add) until a page ends with another group or the round ends; every other group on a page is
/// complete and is written with its whole membership replacing the stored one. Memory holds at most one page plus
/// that one open group, whose entries the run's `RunReadBudget` already counts.
///
/// "group: delta" (Microsoft Graph v1.0 reference) shows the split of a group's members across pages only by example, so a group that comes again after it was written (not adjacent)
/// is not trusted to be whole: its later entries are applied as additions and removals on top of what was written,
/// never as a replacement, so nothing read is lost whatever the order.
///
/// Members other than users and groups (contacts, service principals, devices) are not protected and are not
/// stored; they are counted by `@odata.type` in ``ignoredMembers``.
struct GroupRoundAssembler {
    /// One group as far as the round has read it.
    private struct Assembly {
        var group: DirectoryGroup
        /// Member id → type; `nil` value: an `@removed` entry (the member left during the round).
        var members: [String: GroupMembership.MemberType?] = [:]
    }

    /// Every group the round listed (not `@removed`), for the removals at the end of a full run.
    private(set) var seenGroups = Set<String>()
    /// Member entries skipped because they are neither users nor groups, by `@odata.type`.
    private(set) var ignoredMembers: [String: Int] = [:]
    /// Groups whose membership was already written as a replacement in this round.
    private var written = Set<String>()
    /// The last group of the previous page, which the next page may continue.
    private var open: Assembly?

    /// The batch that writes what `page` completed; `isLastPage` closes the round (no open group remains).
    mutating func add(_ page: [GraphGroup], isLastPage: Bool) -> DirectoryBatch {
        var completed: [Assembly] = []
        var current = open
        open = nil
        for group in page {
            if group.removed != nil {
                // A first round does not report removals; should one come, the group is simply not seen.
                seenGroups.remove(group.id)
                if current?.group.id == group.id { current = nil }
                continue
            }
            if let assembly = current, assembly.group.id != group.id {
                completed.append(assembly)
                current = nil
            }
            var assembly = current ?? Assembly(group: DirectoryGroup(id: group.id, displayName: group.displayName, mail: group.mail))
            assembly.group = DirectoryGroup(id: group.id, displayName: group.displayName, mail: group.mail)
            for member in group.membersDelta ?? [] {
                guard let type = DirectorySynchronizer.protectedMemberType(member.odataType) else {
                    ignoredMembers[member.odataType ?? "unknown", default: 0] += 1
                    continue
                }
                assembly.members[member.id] = member.removed == nil ? .some(type) : .some(nil)
            }
            seenGroups.insert(group.id)
            current = assembly
        }
        if let current {
            if isLastPage { completed.append(current) } else { open = current }
        }
        return batch(writing: completed)
    }

    private mutating func batch(writing completed: [Assembly]) -> DirectoryBatch {
        var batch = DirectoryBatch()
        for assembly in completed {
            let id = assembly.group.id
            batch.upsertedGroups.append(assembly.group)
            if written.insert(id).inserted {
                batch.replacedMembershipsOfGroups[id] = assembly.members.compactMap { member, type in
                    type.map { GroupMembership(groupID: id, memberID: member, memberType: $0) }
                }.sorted { $0.memberID < $1.memberID }
            } else {
                for (member, type) in assembly.members.sorted(by: { $0.key < $1.key }) {
                    if let type {
                        batch.addedMemberships.append(GroupMembership(groupID: id, memberID: member, memberType: type))
                    } else {
                        batch.removedMemberships.append(GroupMembership(groupID: id, memberID: member, memberType: .user))
                    }
                }
            }
        }
        return batch
    }
}
