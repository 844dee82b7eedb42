import Foundation

/// Admin operations: the same actions `/_emulator/` offers over HTTP, callable in-process.
extension M365Emulator {
    /// Runs `body` on the world with the index of tenant `key` (id or domain), or throws not found.
    func withTenant<T>(_ key: String, _ body: (inout World, Int) throws(EmulatorError) -> T) throws(EmulatorError) -> T {
        let result: Result<T, EmulatorError> = state.world.withLock { world in
            guard let t = world.tenantIndex(key) else { return .failure(.notFound("No tenant '\(key)'")) }
            do throws(EmulatorError) { return .success(try body(&world, t)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: Tenants

    /// Every tenant with its size, settings, apps and roles.
    public func tenants() -> [TenantInfo] {
        state.world.withLock { w in w.tenants.indices.map { w.tenantInfo($0) } }
    }

    /// One tenant, by id or domain.
    public func tenant(_ key: String) throws(EmulatorError) -> TenantInfo {
        try withTenant(key) { w, t in w.tenantInfo(t) }
    }

    /// Generates a new tenant (the product app is registered in it like in the others).
    public func createTenant(domain: String? = nil, users: Int = 10, groups: Int = 3, seed: UInt64? = nil) throws(EmulatorError) -> TenantInfo {
        guard users >= 0, groups >= 0, users <= 1_000_000 else { throw .badRequest("users must be 0...1000000 and groups >= 0") }
        if let domain, !domain.contains(".") { throw .badRequest("domain must look like name.onmicrosoft.com") }
        return state.world.withLock { w in
            let s = seed ?? (state.configuration.seed &+ UInt64(w.tenants.count) &* 7919)
            let index = w.createTenant(domain: domain, users: users, groups: groups, seed: s)
            return w.tenantInfo(index)
        }
    }

    /// Changes tenant settings (token lifetime, strict refresh tokens, consent answer, throttling, delta token age …).
    @discardableResult
    public func updateSettings(tenant: String, _ patch: TenantSettingsPatch) throws(EmulatorError) -> TenantSettings {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            var settings = w.tenants[t].settings
            try patch.apply(to: &settings)
            w.tenants[t].settings = settings
            if patch.throttlingEnabled != nil || patch.resourceUnitsPer10Seconds != nil { w.tenants[t].buckets = [:] }
            return settings
        }
    }

    // MARK: Directory

    /// Users of a tenant (including deleted ones), at most `limit`.
    public func users(tenant: String, limit: Int = 1_000) throws(EmulatorError) -> [UserInfo] {
        try withTenant(tenant) { w, t in
            let d = w.tenants[t].directory
            return (0..<min(limit, d.users.count)).map(d.userInfo)
        }
    }

    @discardableResult
    public func createUser(tenant: String, _ draft: UserDraft) throws(EmulatorError) -> UserInfo {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            let d = w.tenants[t].directory
            return d.userInfo(try d.addUser(draft))
        }
    }

    @discardableResult
    public func updateUser(tenant: String, user: String, _ draft: UserDraft) throws(EmulatorError) -> UserInfo {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            let d = w.tenants[t].directory
            guard let i = d.userIndex(idOrUPN: user) else { throw .notFound("No user '\(user)'") }
            try d.updateUser(i, draft)
            return d.userInfo(i)
        }
    }

    /// Soft delete (recycle bin; delta says `changed`) or hard delete (delta says `deleted`).
    public func deleteUser(tenant: String, user: String, hard: Bool = false) throws(EmulatorError) {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            let d = w.tenants[t].directory
            guard let i = d.userIndex(idOrUPN: user) else { throw .notFound("No user '\(user)'") }
            try d.deleteUser(i, hard: hard)
        }
    }

    @discardableResult
    public func restoreUser(tenant: String, user: String) throws(EmulatorError) -> UserInfo {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            let d = w.tenants[t].directory
            guard let i = d.userIndex(idOrUPN: user) else { throw .notFound("No user '\(user)'") }
            try d.restoreUser(i)
            return d.userInfo(i)
        }
    }

    public func groups(tenant: String) throws(EmulatorError) -> [GroupInfo] {
        try withTenant(tenant) { w, t in
            let d = w.tenants[t].directory
            return d.groups.indices.map(d.groupInfo)
        }
    }

    /// Creates a contact, service principal or device that can then be added to groups (Graph lists it among
    /// `members` and in `members@delta` with its own `@odata.type`).
    @discardableResult
    public func createDirectoryObject(tenant: String, _ draft: DirectoryObjectDraft) throws(EmulatorError) -> DirectoryObjectInfo {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            let d = w.tenants[t].directory
            let index = try d.addOther(draft)
            let o = d.others[index]
            return DirectoryObjectInfo(id: o.id, type: o.type, displayName: o.displayName)
        }
    }

    @discardableResult
    public func createGroup(tenant: String, _ draft: GroupDraft) throws(EmulatorError) -> GroupInfo {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            let d = w.tenants[t].directory
            return d.groupInfo(try d.addGroup(draft))
        }
    }

    public func deleteGroup(tenant: String, group: String) throws(EmulatorError) {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            let d = w.tenants[t].directory
            guard let g = d.groupIndex(id: group) else { throw .notFound("No group '\(group)'") }
            try d.deleteGroup(g)
        }
    }

    /// Adds a user or a group (nesting) to a group.
    public func addMember(tenant: String, group: String, member: String) throws(EmulatorError) {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            let d = w.tenants[t].directory
            guard let g = d.groupIndex(id: group) else { throw .notFound("No group '\(group)'") }
            let ref: MemberRef
            if let m = d.memberIndex(id: member) { ref = m } else if let u = d.userIndex(idOrUPN: member) { ref = .user(Int32(u)) } else {
                throw .notFound("No user or group '\(member)'")
            }
            try d.addMember(group: g, member: ref)
        }
    }

    public func removeMember(tenant: String, group: String, member: String) throws(EmulatorError) {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            let d = w.tenants[t].directory
            guard let g = d.groupIndex(id: group) else { throw .notFound("No group '\(group)'") }
            let ref: MemberRef
            if let m = d.memberIndex(id: member) { ref = m } else if let u = d.userIndex(idOrUPN: member) { ref = .user(Int32(u)) } else {
                throw .notFound("No user or group '\(member)'")
            }
            try d.removeMember(group: g, member: ref)
        }
    }

    // MARK: Apps, consent, roles, tokens

    /// Registers (or replaces) an app in a tenant: the customer's own app for Teams Chat, for example.
    @discardableResult
    public func registerApp(tenant: String, _ registration: AppRegistration) throws(EmulatorError) -> AppRegistration {
        guard !registration.appId.isEmpty else { throw .badRequest("appId is required") }
        return try withTenant(tenant) { w, t throws(EmulatorError) in
            let key = registration.appId.lowercased()
            let sp = w.tenants[t].apps[key]?.servicePrincipalID ?? RandomMaterial.guid()
            var reg = registration
            if reg.consented == nil { reg.consented = true }
            var keys: [AppCertificate] = []
            for pem in reg.certificates ?? [] { keys.append(try AppCertificate(pem: pem)) }
            w.tenants[t].apps[key] = AppState(registration: reg, servicePrincipalID: sp, keyCredentials: keys)
            return w.tenants[t].apps[key]!.publicView
        }
    }

    /// Marks an app's client secret expired (client credentials then fail with AADSTS7000222), or valid again.
    public func setSecretExpired(tenant: String, appId: String, expired: Bool = true) throws(EmulatorError) {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            guard w.tenants[t].apps[appId.lowercased()] != nil else { throw .notFound("No app '\(appId)' in tenant") }
            w.tenants[t].apps[appId.lowercased()]!.registration.secretExpired = expired
        }
    }

    /// The Graph calls an app with a monthly allowance made in the tenant this month (0 when it has none).
    public func monthlyCalls(tenant: String, appId: String) throws(EmulatorError) -> Int {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            guard let app = w.tenants[t].apps[appId.lowercased()] else { throw .notFound("No app '\(appId)' in tenant") }
            return app.callsThisMonth
        }
    }

    /// Replaces an app's client secret (and clears the expired mark).
    public func setSecret(tenant: String, appId: String, secret: String) throws(EmulatorError) {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            guard w.tenants[t].apps[appId.lowercased()] != nil else { throw .notFound("No app '\(appId)' in tenant") }
            w.tenants[t].apps[appId.lowercased()]!.registration.secret = secret
            w.tenants[t].apps[appId.lowercased()]!.registration.secretExpired = false
        }
    }

    /// Adds a client secret to an app; the secrets it had stay valid (Graph `application: addPassword`).
    public func addSecret(tenant: String, appId: String, secret: String) throws(EmulatorError) {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            guard var app = w.tenants[t].apps[appId.lowercased()] else { throw .notFound("No app '\(appId)' in tenant") }
            if app.registration.secret == nil {
                app.registration.secret = secret
            } else {
                app.registration.additionalSecrets = (app.registration.additionalSecrets ?? []) + [secret]
            }
            w.tenants[t].apps[appId.lowercased()] = app
        }
    }

    /// Removes one client secret of an app; requests with it then fail with AADSTS7000215 (Graph `application: removePassword`).
    public func removeSecret(tenant: String, appId: String, secret: String) throws(EmulatorError) {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            guard var app = w.tenants[t].apps[appId.lowercased()] else { throw .notFound("No app '\(appId)' in tenant") }
            var all = [app.registration.secret].compactMap { $0 } + (app.registration.additionalSecrets ?? [])
            guard let index = all.firstIndex(of: secret) else { throw .notFound("The app '\(appId)' has no such secret") }
            all.remove(at: index)
            app.registration.secret = all.first
            app.registration.additionalSecrets = all.count > 1 ? Array(all.dropFirst()) : nil
            w.tenants[t].apps[appId.lowercased()] = app
        }
    }

    /// Grants or revokes the admin consent of an app in a tenant.
    public func setConsent(tenant: String, appId: String, granted: Bool) throws(EmulatorError) {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            guard w.tenants[t].apps[appId.lowercased()] != nil else { throw .notFound("No app '\(appId)' in tenant") }
            w.tenants[t].apps[appId.lowercased()]!.registration.consented = granted
        }
    }

    /// Revokes the tenant's refresh tokens (optionally one app's): their next use fails with `invalid_grant` and `code`.
    /// - Parameters:
    ///   - code: 70008 (expired/revoked), 700082 (inactivity) or 50173 (grant revoked, e.g. password reset).
    ///   - accessTokens: also invalidate the access tokens already issued.
    /// - Returns: how many refresh tokens were revoked.
    @discardableResult
    public func revokeRefreshTokens(tenant: String, code: Int = 50173, appId: String? = nil, accessTokens: Bool = false) throws(EmulatorError) -> Int {
        guard [70008, 700082, 50173].contains(code) else { throw .badRequest("code must be 70008, 700082 or 50173") }
        return try withTenant(tenant) { w, t in
            let now = w.now()
            var n = 0
            for (key, record) in w.refreshTokens where record.tenant == t && record.revokedCode == nil
                && (appId == nil || record.appID.lowercased() == appId!.lowercased()) {
                w.refreshTokens[key]!.revokedCode = code
                w.refreshTokens[key]!.revokedAt = now
                n += 1
            }
            if accessTokens {
                for (key, record) in w.accessTokens where record.tenant == t
                    && (appId == nil || record.appID.lowercased() == appId!.lowercased()) {
                    w.accessTokens[key]!.revoked = true
                }
            }
            return n
        }
    }

    /// Assigns a directory role (default: Exchange Administrator) to an app's service principal: active, active through
    /// PIM (optionally ending at `endDateTime`, ISO 8601) or PIM-eligible.
    @discardableResult
    public func assignRole(tenant: String, appId: String, roleDefinitionId: String = RoleAssignment.exchangeAdministratorRoleID,
                           kind: RoleAssignment.Kind = .active, endDateTime: String? = nil) throws(EmulatorError) -> RoleAssignment {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            guard let app = w.tenants[t].app(appId) else { throw .notFound("No app '\(appId)' in tenant") }
            if let existing = w.tenants[t].roleAssignments.first(where: {
                $0.appId.lowercased() == appId.lowercased() && $0.roleDefinitionId == roleDefinitionId && $0.kind == kind
            }) { return existing }
            let assignment = RoleAssignment(id: RandomMaterial.guid(), appId: app.registration.appId,
                                            principalId: app.servicePrincipalID, roleDefinitionId: roleDefinitionId, kind: kind,
                                            endDateTime: kind == .pimActive ? endDateTime : nil)
            w.tenants[t].roleAssignments.append(assignment)
            return assignment
        }
    }

    public func unassignRole(tenant: String, appId: String, roleDefinitionId: String = RoleAssignment.exchangeAdministratorRoleID,
                             kind: RoleAssignment.Kind = .active) throws(EmulatorError) {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            let before = w.tenants[t].roleAssignments.count
            w.tenants[t].roleAssignments.removeAll {
                $0.appId.lowercased() == appId.lowercased() && $0.roleDefinitionId == roleDefinitionId && $0.kind == kind
            }
            if w.tenants[t].roleAssignments.count == before { throw .notFound("No such role assignment") }
        }
    }

    // MARK: Exchange Online and the Management Activity API

    /// The tenant's Exchange Online mail flow (connectors and transport rules) as `Get-*` cmdlets would list it.
    public func exchangeConfiguration(tenant: String) throws(EmulatorError) -> ExchangeConfiguration {
        try withTenant(tenant) { w, t in w.tenants[t].exchange.publicView }
    }

    /// Forgets the tenant's connectors and transport rules.
    public func resetExchange(tenant: String) throws(EmulatorError) {
        try withTenant(tenant) { w, t in w.tenants[t].exchange = ExchangeOrganization() }
    }

    /// The tenant's started Management Activity API subscriptions (content types).
    public func activitySubscriptions(tenant: String) throws(EmulatorError) -> [String] {
        try withTenant(tenant) { w, t in w.tenants[t].activitySubscriptions.sorted() }
    }

    // MARK: Device codes

    /// Pending device codes, optionally of one tenant.
    public func pendingDeviceCodes(tenant: String? = nil) throws(EmulatorError) -> [PendingDeviceCode] {
        if let tenant { return try withTenant(tenant) { w, t in w.pendingDeviceCodes(tenant: t) } }
        return state.world.withLock { $0.pendingDeviceCodes(tenant: nil) }
    }

    /// The administrator enters the user code and approves (signing in as `user`, default the first user).
    @discardableResult
    public func approveDeviceCode(userCode: String, user: String? = nil) throws(EmulatorError) -> PendingDeviceCode {
        let r: Result<PendingDeviceCode, EmulatorError> = state.world.withLock { w in
            do throws(EmulatorError) { return .success(try w.decideDeviceCode(userCode: userCode, approve: true, user: user)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    /// The administrator declines: polling then answers `authorization_declined`.
    @discardableResult
    public func declineDeviceCode(userCode: String) throws(EmulatorError) -> PendingDeviceCode {
        let r: Result<PendingDeviceCode, EmulatorError> = state.world.withLock { w in
            do throws(EmulatorError) { return .success(try w.decideDeviceCode(userCode: userCode, approve: false, user: nil)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    /// Approves (or declines) the oldest pending device code of a tenant, waiting up to `wait` for one to appear.
    @discardableResult
    public func decideNextDeviceCode(tenant: String, approve: Bool = true, user: String? = nil,
                                     wait: Duration = .zero) async throws -> PendingDeviceCode {
        let deadline = ContinuousClock.now + wait
        while true {
            if let next = try pendingDeviceCodes(tenant: tenant).first {
                return approve ? try approveDeviceCode(userCode: next.userCode, user: user)
                    : try declineDeviceCode(userCode: next.userCode)
            }
            guard ContinuousClock.now < deadline else { throw EmulatorError.notFound("No pending device code in tenant '\(tenant)'") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: Faults, clock, observation

    /// Adds a fault rule; returns it with its id.
    @discardableResult
    public func addFault(_ rule: FaultRule) throws(EmulatorError) -> FaultRule {
        if rule.kind == .status, !(400...599).contains(rule.status ?? 0) { throw .badRequest("a status fault needs status 400...599") }
        if let p = rule.probability, !(0...1).contains(p) { throw .badRequest("probability must be within 0...1") }
        if let n = rule.times, n < 1 { throw .badRequest("times must be at least 1") }
        return state.world.withLock { w in
            var r = rule
            r.id = w.nextFaultID
            w.nextFaultID += 1
            w.faults.append(r)
            return r
        }
    }

    public func faults() -> [FaultRule] { state.world.withLock { $0.faults } }

    public func removeFault(id: Int) throws(EmulatorError) {
        try state.world.withLock { w throws(EmulatorError) in
            guard let i = w.faults.firstIndex(where: { $0.id == id }) else { throw .notFound("No fault \(id)") }
            w.faults.remove(at: i)
        }
    }

    public func clearFaults() { state.world.withLock { $0.faults.removeAll() } }

    /// Moves the emulator's clock forward (token expiry, device-code expiry, delta-token age, throttling windows).
    public func advanceClock(by seconds: Double) throws(EmulatorError) {
        guard seconds >= 0 else { throw .badRequest("the clock only moves forward") }
        state.world.withLock { $0.clockOffset += seconds }
    }

    /// Request counters of a tenant (`token`, `token.refresh_token`, `graph`, `graph.users`, `graph.throttled`, `faults` …).
    public func counters(tenant: String) throws(EmulatorError) -> [String: Int] {
        try withTenant(tenant) { w, t in w.tenants[t].counters }
    }

    /// The request log, oldest first, optionally of one tenant (by id or domain).
    public func requestLog(tenant: String? = nil) -> [RequestLogEntry] {
        state.world.withLock { w in
            let id = tenant.flatMap { w.tenantIndex($0) }.map { w.tenants[$0].id }
            return w.orderedLog.filter { tenant == nil || $0.tenantId == id }
        }
    }

    public func clearRequestLog() {
        state.world.withLock { w in w.requestLog.removeAll(); w.requestLogStart = 0 }
    }
}
