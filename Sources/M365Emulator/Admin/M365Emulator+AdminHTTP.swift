import Foundation

/// The `/_emulator/` admin API over HTTP: JSON in, JSON out, each route one admin method.
extension M365Emulator {
    private struct NewTenant: Decodable {
        var domain: String?
        var users: Int?
        var groups: Int?
        var seed: UInt64?
    }

    private struct MemberBody: Decodable { var id: String }

    private struct RevokeBody: Decodable {
        var code: Int?
        var appId: String?
        var accessTokens: Bool?
    }

    private struct SessionsBody: Decodable {
        var user: String?
        var appId: String?
        var refreshTokens: Bool?
    }

    private struct RoleBody: Decodable {
        var appId: String
        var roleDefinitionId: String?
        var kind: RoleAssignment.Kind?
        var endDateTime: String?
    }

    private struct ClockBody: Decodable { var seconds: Double }

    private struct SecretBody: Decodable {
        var secret: String?
        var expired: Bool?
    }

    private struct KeyBody: Decodable {
        var certificate: String?
        var thumbprint: String?
    }

    private struct Count: Encodable { var revoked: Int }

    /// `{"milliseconds": 50}`, `{"latency": "50ms"}`, or `{}` / `{"milliseconds": null}` for the emulator's default.
    private struct LatencyBody: Decodable {
        var milliseconds: Int?
        var latency: String?
    }

    func handleAdmin(_ request: EmulatorRequest) async -> EmulatorResponse {
        do {
            return try await adminRoute(request)
        } catch let error as EmulatorError {
            return Self.adminJSON(error.httpStatus, ["error": error.code, "message": error.message])
        } catch let error as DecodingError {
            return Self.adminJSON(400, ["error": "bad_request", "message": "Invalid JSON body: \(Self.describe(error))"])
        } catch {
            return Self.adminJSON(500, ["error": "internal", "message": "\(error)"])
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c):
            "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case .dataCorrupted(let c): c.debugDescription
        @unknown default: "undecodable"
        }
    }

    static func adminJSON<T: Encodable>(_ status: Int, _ value: T) -> EmulatorResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return EmulatorResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
    }

    private static let noContent = EmulatorResponse(status: 204)

    private func decode<T: Decodable>(_ type: T.Type, _ request: EmulatorRequest) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(request.body.isEmpty ? Array("{}".utf8) : request.body))
    }

    private func adminRoute(_ request: EmulatorRequest) async throws -> EmulatorResponse {
        let s = Array(request.segments.dropFirst())
        let m = request.method
        let q = request.query
        switch (m, s.count, s.first) {
        case ("GET", 1, "tenants"):
            return Self.adminJSON(200, tenants())
        case ("POST", 1, "tenants"):
            let body = try decode(NewTenant.self, request)
            return Self.adminJSON(201, try createTenant(domain: body.domain, users: body.users ?? 10,
                                                         groups: body.groups ?? 3, seed: body.seed))
        case ("GET", 2, "tenants"):
            return Self.adminJSON(200, try tenant(s[1]))
        case (_, 1, "faults"):
            switch m {
            case "GET": return Self.adminJSON(200, faults())
            case "POST": return Self.adminJSON(201, try addFault(try decode(FaultRule.self, request)))
            case "DELETE": clearFaults(); return Self.noContent
            default: break
            }
        case ("DELETE", 2, "faults"):
            guard let id = Int(s[1]) else { throw EmulatorError.badRequest("fault id must be a number") }
            try removeFault(id: id)
            return Self.noContent
        case ("POST", 2, "clock") where s[1] == "advance":
            try advanceClock(by: try decode(ClockBody.self, request).seconds)
            return Self.noContent
        case ("GET", 1, "usage"):
            return Self.adminJSON(200, usage())
        case ("DELETE", 1, "usage"):
            resetUsage(refill: q["refill"] == "true")
            return Self.noContent
        case ("GET", 1, "requests"):
            return Self.adminJSON(200, requestLog(tenant: q["tenant"]))
        case ("DELETE", 1, "requests"):
            clearRequestLog()
            return Self.noContent
        case ("GET", 1, "device-codes"):
            return Self.adminJSON(200, try pendingDeviceCodes(tenant: q["tenant"]))
        case ("POST", 3, "device-codes") where s[2] == "approve":
            return Self.adminJSON(200, try approveDeviceCode(userCode: s[1], user: q["user"]))
        case ("POST", 3, "device-codes") where s[2] == "decline":
            return Self.adminJSON(200, try declineDeviceCode(userCode: s[1]))
        case (_, _, "tenants") where s.count >= 3:
            return try await tenantRoute(request, tenant: s[1], rest: Array(s.dropFirst(2)))
        default:
            break
        }
        throw EmulatorError.notFound("No admin endpoint \(m) \(request.path)")
    }

    private func tenantRoute(_ request: EmulatorRequest, tenant: String, rest: [String]) async throws -> EmulatorResponse {
        let m = request.method
        let q = request.query
        switch (m, rest.count, rest[0]) {
        case ("PATCH", 1, "settings"), ("POST", 1, "settings"):
            return Self.adminJSON(200, try updateSettings(tenant: tenant, try decode(TenantSettingsPatch.self, request)))
        case ("GET", 1, "users"):
            return Self.adminJSON(200, try users(tenant: tenant, limit: q["limit"].flatMap(Int.init) ?? 1_000))
        case ("POST", 1, "users"):
            return Self.adminJSON(201, try createUser(tenant: tenant, try decode(UserDraft.self, request)))
        case ("PATCH", 2, "users"):
            return Self.adminJSON(200, try updateUser(tenant: tenant, user: rest[1], try decode(UserDraft.self, request)))
        case ("DELETE", 2, "users"):
            try deleteUser(tenant: tenant, user: rest[1], hard: q["hard"] == "true")
            return Self.noContent
        case ("POST", 3, "users") where rest[2] == "restore":
            return Self.adminJSON(200, try restoreUser(tenant: tenant, user: rest[1]))
        case ("GET", 1, "groups"):
            return Self.adminJSON(200, try groups(tenant: tenant))
        case ("POST", 1, "groups"):
            return Self.adminJSON(201, try createGroup(tenant: tenant, try decode(GroupDraft.self, request)))
        case ("POST", 1, "objects"):
            return Self.adminJSON(201, try createDirectoryObject(tenant: tenant, try decode(DirectoryObjectDraft.self, request)))
        case ("DELETE", 2, "groups"):
            try deleteGroup(tenant: tenant, group: rest[1])
            return Self.noContent
        case ("POST", 3, "groups") where rest[2] == "members":
            try addMember(tenant: tenant, group: rest[1], member: try decode(MemberBody.self, request).id)
            return Self.noContent
        case ("DELETE", 4, "groups") where rest[2] == "members":
            try removeMember(tenant: tenant, group: rest[1], member: rest[3])
            return Self.noContent
        case ("POST", 1, "apps"):
            return Self.adminJSON(201, try registerApp(tenant: tenant, try decode(AppRegistration.self, request)))
        case ("POST", 3, "apps") where rest[2] == "expire-secret":
            try setSecretExpired(tenant: tenant, appId: rest[1], expired: true)
            return Self.noContent
        case ("POST", 3, "apps") where rest[2] == "secret":
            let body = try decode(SecretBody.self, request)
            if let secret = body.secret { try setSecret(tenant: tenant, appId: rest[1], secret: secret) }
            if let expired = body.expired { try setSecretExpired(tenant: tenant, appId: rest[1], expired: expired) }
            return Self.noContent
        case ("POST", 3, "apps") where rest[2] == "addPassword" || rest[2] == "removePassword":
            guard let secret = try decode(SecretBody.self, request).secret, !secret.isEmpty else {
                throw EmulatorError.badRequest("secret is required")
            }
            if rest[2] == "addPassword" {
                try addSecret(tenant: tenant, appId: rest[1], secret: secret)
            } else {
                try removeSecret(tenant: tenant, appId: rest[1], secret: secret)
            }
            return Self.noContent
        case ("POST", 3, "apps") where rest[2] == "addKey":
            guard let certificate = try decode(KeyBody.self, request).certificate, !certificate.isEmpty else {
                throw EmulatorError.badRequest("certificate (PEM) is required")
            }
            try addCertificate(tenant: tenant, appId: rest[1], pem: certificate)
            return Self.noContent
        case ("POST", 3, "apps") where rest[2] == "removeKey":
            guard let thumbprint = try decode(KeyBody.self, request).thumbprint, !thumbprint.isEmpty else {
                throw EmulatorError.badRequest("thumbprint (x5t#S256, base64url) is required")
            }
            try removeCertificate(tenant: tenant, appId: rest[1], thumbprint: thumbprint)
            return Self.noContent
        case ("POST", 3, "apps") where rest[2] == "consent":
            try setConsent(tenant: tenant, appId: rest[1], granted: true)
            return Self.noContent
        case ("DELETE", 3, "apps") where rest[2] == "consent":
            try setConsent(tenant: tenant, appId: rest[1], granted: false)
            return Self.noContent
        case ("POST", 1, "revoke-refresh-tokens"):
            let body = try decode(RevokeBody.self, request)
            let n = try revokeRefreshTokens(tenant: tenant, code: body.code ?? 50173, appId: body.appId,
                                            accessTokens: body.accessTokens ?? false)
            return Self.adminJSON(200, Count(revoked: n))
        case ("POST", 1, "revoke-sessions"):
            let body = try decode(SessionsBody.self, request)
            let n = try revokeSessions(tenant: tenant, user: body.user, appId: body.appId, refreshTokens: body.refreshTokens ?? true)
            return Self.adminJSON(200, Count(revoked: n))
        case ("POST", 1, "roles"):
            let body = try decode(RoleBody.self, request)
            return Self.adminJSON(201, try assignRole(tenant: tenant, appId: body.appId,
                                                       roleDefinitionId: body.roleDefinitionId ?? RoleAssignment.exchangeAdministratorRoleID,
                                                       kind: body.kind ?? .active, endDateTime: body.endDateTime))
        case ("DELETE", 1, "roles"):
            let body = try decode(RoleBody.self, request)
            try unassignRole(tenant: tenant, appId: body.appId,
                             roleDefinitionId: body.roleDefinitionId ?? RoleAssignment.exchangeAdministratorRoleID,
                             kind: body.kind ?? .active)
            return Self.noContent
        case ("GET", 1, "device-codes"):
            return Self.adminJSON(200, try pendingDeviceCodes(tenant: tenant))
        case ("POST", 2, "device-codes") where rest[1] == "approve-next" || rest[1] == "decline-next":
            let wait = min(30, max(0, q["wait"].flatMap(Double.init) ?? 0))
            return Self.adminJSON(200, try await decideNextDeviceCode(
                tenant: tenant, approve: rest[1] == "approve-next", user: q["user"],
                wait: .milliseconds(Int(wait * 1000))))
        case ("GET", 1, "exchange"):
            return Self.adminJSON(200, try exchangeConfiguration(tenant: tenant))
        case ("DELETE", 1, "exchange"):
            try resetExchange(tenant: tenant)
            return Self.noContent
        case ("GET", 1, "activity-subscriptions"):
            return Self.adminJSON(200, try activitySubscriptions(tenant: tenant))
        case ("GET", 1, "counters"):
            return Self.adminJSON(200, try counters(tenant: tenant))
        case ("GET", 1, "usage"):
            return Self.adminJSON(200, try usage(tenant: tenant))
        case ("DELETE", 1, "usage"):
            try resetUsage(tenant: tenant)
            return Self.noContent
        case ("POST", 1, "latency"), ("PUT", 1, "latency"):
            let body = try decode(LatencyBody.self, request)
            var latency = body.milliseconds.map { Duration.milliseconds($0) }
            if let text = body.latency {
                guard let parsed = EmulatorDuration.parse(text) else {
                    throw EmulatorError.badRequest("latency must look like 50ms, 1.5s or 0")
                }
                latency = parsed
            }
            try setLatency(tenant: tenant, latency)
            return Self.adminJSON(200, try self.tenant(tenant).settings)
        default:
            break
        }
        throw EmulatorError.notFound("No admin endpoint \(m) \(request.path)")
    }
}
