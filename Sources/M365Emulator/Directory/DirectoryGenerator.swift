/// Fills a tenant with users, groups and nested memberships, deterministically from a seed.
enum DirectoryGenerator {
    static let organizationNames = ["contoso", "fabrikam", "northwind", "adatum", "tailspin", "wingtip",
                                    "litware", "proseware", "woodgrove", "alpineski", "lucerne", "margie"]
    static let givenNames = ["Adele", "Alex", "Allan", "Ben", "Christie", "Debra", "Diego", "Emily", "Enrico",
                             "Grady", "Henrietta", "Irvin", "Isaiah", "Johanna", "Joni", "Lee", "Lidia",
                             "Lynne", "Megan", "Miriam", "Nestor", "Patti", "Pradeep", "Ravi", "Sofia", "Tomas"]
    static let surnames = ["Vance", "Wilber", "Deyoung", "Andrews", "Cline", "Berg", "Zarate", "Braun", "Rossi",
                           "Archie", "Cartwright", "Sink", "Langer", "Lauer", "Sherman", "Gu", "Holloway",
                           "Fox", "Bowen", "Graham", "Wilke", "Fernandez", "Gupta", "Patel", "Novak", "Lindqvist"]
    static let departments = ["Sales", "Marketing", "Finance", "Engineering", "Legal", "Support", "Operations",
                              "Research", "HR", "Design", "Security", "Facilities"]

    static func domain(forTenant index: Int) -> String {
        let base = organizationNames[index % organizationNames.count]
        let suffix = index < organizationNames.count ? "" : String(index / organizationNames.count + 1)
        return "\(base)\(suffix).onmicrosoft.com"
    }

    static func populate(_ directory: TenantDirectory, users userCount: Int, groups groupCount: Int, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for i in 0..<userCount {
            let given = givenNames[Int(rng.next() % UInt64(givenNames.count))]
            let surname = surnames[Int(rng.next() % UInt64(surnames.count))]
            let upn = "\(given.lowercased()).\(surname.lowercased())\(i)@\(directory.domain)"
            let enabled = rng.next() % 20 != 0
            _ = try? directory.addUser(UserDraft(
                id: rng.guid(), userPrincipalName: upn, displayName: "\(given) \(surname)",
                givenName: given, surname: surname, mail: upn,
                jobTitle: departments[i % departments.count], accountEnabled: enabled))
        }
        guard groupCount > 0 else { return }
        for g in 0..<groupCount {
            let dept = departments[g % departments.count]
            let name = g < departments.count ? dept : "\(dept) \(g / departments.count + 1)"
            _ = try? directory.addGroup(GroupDraft(
                id: rng.guid(), displayName: name, description: "\(name) team",
                mailEnabled: g % 2 == 0, securityEnabled: true))
        }
        guard userCount > 0 else { return }
        // Each user joins one or two groups; every third group (after the first) also holds an earlier group,
        // so transitive membership is exercised and cycles are impossible.
        var buckets = Array(repeating: [MemberRef](), count: groupCount)
        for u in 0..<userCount {
            buckets[Int(rng.next() % UInt64(groupCount))].append(.user(Int32(u)))
            if rng.next() % 4 == 0 {
                buckets[Int(rng.next() % UInt64(groupCount))].append(.user(Int32(u)))
            }
        }
        for g in 0..<groupCount {
            var seen = Set<MemberRef>()
            var members = buckets[g].filter { seen.insert($0).inserted }
            if g > 0, g % 3 == 0 {
                members.append(.group(Int32(Int(rng.next() % UInt64(g)))))
            }
            directory.appendMembersUnlogged(group: g, members: members)
        }
    }
}
