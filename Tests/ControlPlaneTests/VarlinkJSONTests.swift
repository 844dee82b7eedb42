@testable import ControlPlane
import Foundation
import Testing
import TenantSyncCore

@Suite("Interface JSON shape")
struct VarlinkJSONTests {
    @Test("Swift names map to the IDL's snake_case and back", arguments: [
        ("tenantID", "tenant_id"), ("verificationURI", "verification_uri"), ("authorizationURL", "authorization_url"),
        ("permissionXML", "permission_xml"), ("aadstsCode", "aadsts_code"), ("tokenInvalid", "token_invalid"),
        ("id", "id"), ("clientSecretExpiresAt", "client_secret_expires_at"), ("userPrincipalName", "user_principal_name"),
    ])
    func keys(swift: String, wire: String) {
        #expect(VarlinkJSON.snakeCase(swift) == wire)
        #expect(VarlinkJSON.camelCase(wire) == swift)
    }

    @Test("every field name the IDL declares is produced by the Swift types' encoding")
    func idlFieldsAreEncoded() async throws {
        let handler = TestControlHandler()
        let context = ControlContext(peer: PeerCredentials(pid: 1, uid: 0, gid: 0), method: "test", logger: ControlServerHarness.logger)
        let encoder = VarlinkJSON.makeEncoder()
        let samples: [any Encodable] = [
            try await handler.status(context: context),
            try await handler.account(id: 7, context: context),
            try await handler.listAlerts(ListAlertsRequest(), context: context),
            try await handler.listTargets(tenant: "t", context: context),
            try await handler.listNodes(context: context),
        ]
        var produced = Set<String>()
        func collect(_ value: Any) {
            if let object = value as? [String: Any] {
                for (key, inner) in object { produced.insert(key); collect(inner) }
            } else if let array = value as? [Any] {
                array.forEach(collect)
            }
        }
        for sample in samples { collect(try JSONSerialization.jsonObject(with: encoder.encode(sample))) }
        for field in ["tenant_domain", "token_invalid", "oldest_pending_at", "alert_delivery", "unacknowledged_alerts", "aadsts_code", "trace_id", "next_refresh_at", "consecutive_failures", "user_principal_name", "last_error", "last_heartbeat_at", "silent_seconds", "answering", "alive"] {
            #expect(produced.contains(field), "no Swift type encodes \(field)")
            #expect(ControlInterface.description.contains("\(field):"), "the IDL lacks \(field)")
        }
    }

    @Test("app credentials decode from the wire and never print the secret")
    func credentials() throws {
        let data = Data(#"{"app_id":"a1","client_secret":"hunter2"}"#.utf8)
        let credentials = try VarlinkJSON.makeDecoder().decode(AppCredentials.self, from: data)
        #expect(credentials.appID == "a1")
        #expect(credentials.clientSecret?.reveal == "hunter2")
        #expect(!"\(credentials)".contains("hunter2"))
    }

    @Test("a certificate credential decodes from the wire and never prints its key")
    func certificateCredentials() throws {
        let data = Data(#"{"app_id":"a1","certificate":"-----BEGIN CERTIFICATE-----","private_key":"key-material-42"}"#.utf8)
        let credentials = try VarlinkJSON.makeDecoder().decode(AppCredentials.self, from: data)
        #expect(credentials.clientSecret == nil)
        #expect(credentials.certificate == "-----BEGIN CERTIFICATE-----")
        #expect(credentials.privateKey?.reveal == "key-material-42")
        #expect(!"\(credentials)".contains("key-material-42"))
        let encoded = String(decoding: try VarlinkJSON.makeEncoder().encode(credentials), as: UTF8.self)
        #expect(encoded.contains(#""private_key":"key-material-42""#) && !encoded.contains("client_secret"))
    }

    @Test("TenantSyncError codes map to interface errors with typed parameters")
    func errorMapping() {
        let scope = ControlError.from(TenantSyncError(.scopeConflict, "all three must share a scope", context: ["tenant.id": "t1", "scope.requested": "selected", "scope.current": "all"]))
        #expect(scope.name == "io.tenantsync.Control.ScopeConflict")
        #expect(scope.parameters == ["tenant_id": "t1", "requested": "selected", "current": "all", "message": "all three must share a scope"])
        let users = ControlError.from(TenantSyncError(.userNotFound, "unknown users", context: ["users": "a@x,b@x"]))
        #expect(users.parameters["users"] == .array(["a@x", "b@x"]))
        let store = ControlError.from(TenantSyncError(.storeUnavailable, "database busy"))
        #expect(store.name == "io.tenantsync.Control.TemporaryFailure")
        let consent = ControlError.from(TenantSyncError(.init(rawValue: "ConsentDeclined"), "declined", context: ["aadsts.code": "65004", "account.id": "3"]))
        #expect(consent.name == "io.tenantsync.Control.ConsentDeclined")
        #expect(consent.parameters["aadsts_code"] == .int(65004))
        let config = ControlError.from(TenantSyncError(.invalidConfiguration, "bad"))
        #expect(config.name == "io.tenantsync.Control.Internal")
    }

    @Test("the nesting guard counts brackets outside strings only")
    func nesting() {
        #expect(VarlinkJSON.nestingIsShallow(Array(#"{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}"#.utf8)))
        #expect(!VarlinkJSON.nestingIsShallow(Array((String(repeating: "[", count: 65) + String(repeating: "]", count: 65)).utf8)))
        #expect(VarlinkJSON.nestingIsShallow(Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8)))
    }
}
