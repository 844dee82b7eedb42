import AsyncHTTPClient
import Foundation
import Logging
import M365Emulator
import Testing
import TenantSyncCore
@testable import MicrosoftCloud

/// The Exchange admin API client and the Management Activity API client against the emulator's real endpoints.
@Suite("Exchange admin and Management Activity clients against the emulator", .serialized)
struct ExchangeAdminClientEmulatorTests {
    @Test("InvokeCommand: objects come back; Exchange's errors are unwrapped to the cmdlet's type and text")
    func invokeCommand() async throws {
        try await IdentityPlatformClientEmulatorTests.run { c in
            let base = c.client.endpoints.authority
            let exchange = ExchangeAdminClient(outlookRoot: base + "/outlook", http: c.http, logger: Logger(label: "test"))
            // App-only: the product app's Exchange.ManageAsApp, plus the Exchange Administrator role.
            let token = try await c.client.clientCredentials(tenant: c.tenant.id, client: c.product, scope: base + "/outlook/.default").accessToken

            let noRole = await #expect(throws: ExchangeAdminError.self) {
                try await exchange.invoke(tenantID: c.tenant.id, cmdlet: "Get-InboundConnector", accessToken: token)
            }
            #expect(noRole?.status == 403 && noRole?.message.contains("Exchange Administrator role") == true, "\(String(describing: noRole))")

            try c.emulator.assignRole(tenant: c.tenant.id, appId: EmulatorDefaults.clientID)
            let created = try await exchange.invoke(
                tenantID: c.tenant.id, cmdlet: "New-InboundConnector",
                parameters: ["Name": .string("In"), "SenderDomains": .list(["*"]), "RequireTls": .bool(true)], accessToken: token
            )
            #expect(created.first?.name == "In" && created.first?.enabled == true)
            #expect(try await exchange.invoke(tenantID: c.tenant.id, cmdlet: "Get-InboundConnector", accessToken: token).map(\.name) == ["In"])

            let duplicate = await #expect(throws: ExchangeAdminError.self) {
                try await exchange.invoke(
                    tenantID: c.tenant.id, cmdlet: "New-InboundConnector", parameters: ["Name": .string("In"), "SenderDomains": .list(["*"])], accessToken: token
                )
            }
            #expect(duplicate?.status == 400 && duplicate?.code == "BadRequest")
            #expect(duplicate?.type?.hasSuffix("ManagementObjectAlreadyExistsException") == true)
            #expect(duplicate?.message.contains("already exists") == true && duplicate?.message.hasPrefix("|") == false, "\(String(describing: duplicate))")
            #expect(duplicate?.isTransient == false)

            let unknown = await #expect(throws: ExchangeAdminError.self) {
                try await exchange.invoke(tenantID: c.tenant.id, cmdlet: "Set-Nothing", accessToken: token)
            }
            #expect(unknown?.type == "System.Management.Automation.CommandNotFoundException")
        }
    }

    @Test("A 403 whose body is not JSON (Exchange sends NUL bytes) is reported as such")
    func nonJSONBody() {
        let error = ExchangeAdminClient.error(status: 403, body: Data(repeating: 0, count: 64), cmdlet: "Get-TransportRule")
        #expect(error.status == 403 && error.code == nil && error.message == "HTTP 403 with a body that is not JSON")
        #expect(!error.description.contains("\u{0}"))
    }

    @Test("subscriptions/list needs a token for the Management APIs")
    func managementSubscriptions() async throws {
        try await IdentityPlatformClientEmulatorTests.run { c in
            let base = c.client.endpoints.authority
            let activity = ManagementActivityClient(managementRoot: base + "/manage", http: c.http)
            let token = try await c.client.clientCredentials(tenant: c.tenant.id, client: c.product, scope: base + "/manage/.default").accessToken
            #expect(try await activity.subscriptions(tenantID: c.tenant.id, accessToken: token).isEmpty)
            let graphToken = try await c.client.clientCredentials(tenant: c.tenant.id, client: c.product, scope: base + "/.default").accessToken
            let refused = await #expect(throws: GraphError.self) {
                try await activity.subscriptions(tenantID: c.tenant.id, accessToken: graphToken)
            }
            #expect(refused?.kind == .unauthorized && refused?.status == 401)
        }
    }
}
