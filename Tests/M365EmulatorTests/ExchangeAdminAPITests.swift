import Foundation
import M365Emulator
import NIOHTTP1
import Testing

/// The Exchange Online admin API (`InvokeCommand`) and the Management Activity API, as third-party clients call them.
@Suite(.serialized) struct ExchangeAdminAPITests {
    /// A delegated token of the product app for a resource, through the device-code flow (the administrator approves).
    private func delegatedToken(_ h: Harness, tenant: String, scope: String) async throws -> String {
        try h.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(deviceCodeIntervalSeconds: 0))
        let issued = try await h.form("/\(tenant)/oauth2/v2.0/devicecode", ["client_id": h.clientID, "scope": scope + " offline_access"]).json
        _ = try await h.emulator.decideNextDeviceCode(tenant: tenant)
        let tokens = try await h.form("/\(tenant)/oauth2/v2.0/token", [
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": h.clientID,
            "device_code": issued["device_code"] as? String ?? "",
        ])
        try #require(tokens.status == 200, "\(tokens.text)")
        return tokens.json["access_token"] as? String ?? ""
    }

    private func invoke(_ h: Harness, tenant: String, token: String?, _ cmdlet: String, _ parameters: String = "{}", prefix: String = "/outlook") async throws -> Answer {
        let body = "{\"CmdletInput\":{\"CmdletName\":\"\(cmdlet)\",\"Parameters\":\(parameters)}}"
        var headers = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return try await h.send(.POST, "\(prefix)/adminapi/beta/\(tenant)/InvokeCommand", headers: headers, body: Array(body.utf8))
    }

    /// The text Exchange puts in `error.details[0].message` (after its `|Type|` prefix).
    private func detail(_ answer: Answer) -> String {
        let error = answer.json["error"] as? [String: Any]
        return ((error?["details"] as? [[String: Any]])?.first?["message"] as? String) ?? (error?["message"] as? String ?? "")
    }

    @Test func invokeCommandNeedsAnExchangeTokenWithTheManagePermissionAndTheRole() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let noToken = try await invoke(h, tenant: tenant, token: nil, "Get-InboundConnector")
            #expect(noToken.status == 401)
            #expect((noToken.json["error"] as? [String: Any])?["code"] as? String == "Unauthorized")
            #expect(try await invoke(h, tenant: tenant, token: "not-a-token", "Get-InboundConnector").status == 401)

            let graphToken = try await delegatedToken(h, tenant: tenant, scope: "https://graph.microsoft.com/.default")
            #expect(try await invoke(h, tenant: tenant, token: graphToken, "Get-InboundConnector").status == 401, "a Graph token is for another audience")

            let exchange = try await delegatedToken(h, tenant: tenant, scope: "https://outlook.office365.com/.default")
            let noRole = try await invoke(h, tenant: tenant, token: exchange, "Get-InboundConnector")
            #expect(noRole.status == 403)
            #expect(noRole.text.contains("Exchange Administrator role"), "\(noRole.text)")

            // Eligible through PIM is not in effect: an app cannot activate it.
            try h.emulator.assignRole(tenant: tenant, appId: h.clientID, kind: .eligible)
            #expect(try await invoke(h, tenant: tenant, token: exchange, "Get-InboundConnector").status == 403)

            try h.emulator.assignRole(tenant: tenant, appId: h.clientID, kind: .active)
            let allowed = try await invoke(h, tenant: tenant, token: exchange, "Get-InboundConnector")
            #expect(allowed.status == 200, "\(allowed.text)")
            #expect((allowed.json["@odata.context"] as? String)?.contains("/adminapi/beta/\(tenant)/$metadata") == true)
            #expect(allowed.values.isEmpty)

            // Another tenant's URL with this token: refused.
            let other = h.emulator.tenants()[1].id
            #expect(try await invoke(h, tenant: other, token: exchange, "Get-InboundConnector").status == 403)

            // A token without Exchange.Manage (the app registered with EWS only): refused with 403.
            var app = try #require(h.firstTenant.apps.first { $0.appId.lowercased() == h.clientID.lowercased() })
            app.secret = h.clientSecret
            app.outlookDelegatedScopes = ["EWS.AccessAsUser.All"]
            try h.emulator.registerApp(tenant: tenant, app)
            try h.emulator.assignRole(tenant: tenant, appId: h.clientID, kind: .active)
            let ewsOnly = try await delegatedToken(h, tenant: tenant, scope: "https://outlook.office365.com/.default")
            let forbidden = try await invoke(h, tenant: tenant, token: ewsOnly, "Get-InboundConnector")
            #expect(forbidden.status == 403 && forbidden.text.contains("Exchange.Manage"), "\(forbidden.text)")
        }
    }

    @Test func connectorsAndRulesAreCreatedListedEnabledAndRemovedAndNamesAreUnique() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            try h.emulator.assignRole(tenant: tenant, appId: h.clientID, kind: .pimActive)
            let token = try await delegatedToken(h, tenant: tenant, scope: "https://outlook.office365.com/.default")

            let inbound = try await invoke(h, tenant: tenant, token: token, "New-InboundConnector",
                                           #"{"Name":"In","ConnectorType":"Partner","SenderDomains":["*"],"RequireTls":true}"#)
            #expect(inbound.status == 200, "\(inbound.text)")
            #expect(inbound.values.first?["Name"] as? String == "In" && inbound.values.first?["Enabled"] as? Bool == true)

            let duplicate = try await invoke(h, tenant: tenant, token: token, "New-InboundConnector", #"{"Name":"in","SenderDomains":["*"]}"#)
            #expect(duplicate.status == 400)
            #expect((duplicate.json["error"] as? [String: Any])?["code"] as? String == "BadRequest")
            #expect(detail(duplicate).contains("ManagementObjectAlreadyExistsException") && detail(duplicate).contains("already exists"), "\(duplicate.text)")

            let unknown = try await invoke(h, tenant: tenant, token: token, "New-Mailbox", #"{"Name":"x"}"#)
            #expect(unknown.status == 400 && detail(unknown).contains("CommandNotFoundException"), "\(unknown.text)")
            let badParameter = try await invoke(h, tenant: tenant, token: token, "New-OutboundConnector", #"{"Name":"Out","Bogus":1}"#)
            #expect(badParameter.status == 400 && detail(badParameter).contains("Bogus"), "\(badParameter.text)")
            let missing = try await invoke(h, tenant: tenant, token: token, "New-InboundConnector", #"{"Name":"Other"}"#)
            #expect(missing.status == 400 && detail(missing).contains("SenderDomains"), "\(missing.text)")
            let noSmartHost = try await invoke(h, tenant: tenant, token: token, "New-OutboundConnector", #"{"Name":"Out","UseMXRecord":false}"#)
            #expect(noSmartHost.status == 400 && detail(noSmartHost).contains("SmartHosts"), "\(noSmartHost.text)")

            let outbound = try await invoke(h, tenant: tenant, token: token, "New-OutboundConnector",
                                            #"{"Name":"Out","UseMXRecord":false,"SmartHosts":["relay.example.net"],"IsTransportRuleScoped":true}"#)
            #expect(outbound.status == 200, "\(outbound.text)")
            let rule = try await invoke(h, tenant: tenant, token: token, "New-TransportRule",
                                        #"{"Name":"Rule","Enabled":false,"FromScope":"NotInOrganization","RouteMessageOutboundConnector":"Out"}"#)
            #expect(rule.status == 200 && rule.values.first?["State"] as? String == "Disabled", "\(rule.text)")
            let ruleToNowhere = try await invoke(h, tenant: tenant, token: token, "New-TransportRule", #"{"Name":"R2","RouteMessageOutboundConnector":"Nope"}"#)
            #expect(ruleToNowhere.status == 400 && detail(ruleToNowhere).contains("couldn't be found"), "\(ruleToNowhere.text)")

            #expect(try await invoke(h, tenant: tenant, token: token, "Enable-TransportRule", #"{"Identity":"Rule"}"#).status == 200)
            let rules = try await invoke(h, tenant: tenant, token: token, "Get-TransportRule", #"{"Identity":"Rule"}"#)
            #expect(rules.values.first?["State"] as? String == "Enabled")
            let notFound = try await invoke(h, tenant: tenant, token: token, "Get-OutboundConnector", #"{"Identity":"Missing"}"#)
            #expect(notFound.status == 400 && detail(notFound).contains("ManagementObjectNotFoundException"))

            // The admin API shows the same state, and the route without the /outlook prefix works too.
            let state = try await h.admin(.GET, "/tenants/\(tenant)/exchange").json
            #expect((state["inboundConnectors"] as? [[String: Any]])?.map { $0["Name"] as? String } == ["In"])
            #expect((state["outboundConnectors"] as? [[String: Any]])?.count == 1)
            #expect(try await invoke(h, tenant: tenant, token: token, "Remove-OutboundConnector", #"{"Identity":"Out","Confirm":false}"#, prefix: "").status == 200)
            #expect(try h.emulator.exchangeConfiguration(tenant: tenant).outboundConnectors.isEmpty)
            #expect(try h.emulator.exchangeConfiguration(tenant: h.emulator.tenants()[1].id).inboundConnectors.isEmpty, "state is per tenant")
        }
    }

    @Test func anInjected403FaultAnswersInTheExchangeShape() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            try h.emulator.assignRole(tenant: tenant, appId: h.clientID)
            let token = try await delegatedToken(h, tenant: tenant, scope: "https://outlook.office365.com/.default")
            _ = try await h.admin(.POST, "/faults", json: #"{"tenant":"\#(tenant)","path":"InvokeCommand","kind":"status","status":403,"times":1}"#)
            let faulted = try await invoke(h, tenant: tenant, token: token, "Get-TransportRule")
            #expect(faulted.status == 403)
            #expect((faulted.json["error"] as? [String: Any])?["code"] as? String == "Forbidden")
            #expect(try await invoke(h, tenant: tenant, token: token, "Get-TransportRule").status == 200)
        }
    }

    @Test func managementActivityAPINeedsItsAudienceAndActivityFeedRead() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let list = "/manage/api/v1.0/\(tenant)/activity/feed/subscriptions/list"
            #expect(try await h.send(.GET, list).status == 401)
            let graph = try await delegatedToken(h, tenant: tenant, scope: "https://graph.microsoft.com/.default")
            #expect(try await h.send(.GET, list, headers: [("Authorization", "Bearer \(graph)")]).status == 401)

            let manage = try await delegatedToken(h, tenant: tenant, scope: "https://manage.office.com/.default")
            let empty = try await h.send(.GET, list, headers: [("Authorization", "Bearer \(manage)")])
            #expect(empty.status == 200 && empty.text == "[]", "\(empty.text)")
            let started = try await h.send(.POST, "/api/v1.0/\(tenant)/activity/feed/subscriptions/start?contentType=Audit.Exchange",
                                           headers: [("Authorization", "Bearer \(manage)")])
            #expect(started.status == 200 && started.json["contentType"] as? String == "Audit.Exchange", "\(started.text)")
            let listed = try await h.send(.GET, list, headers: [("Authorization", "Bearer \(manage)")])
            #expect(listed.jsonArray.first?["contentType"] as? String == "Audit.Exchange")
            #expect(listed.jsonArray.first?["status"] as? String == "enabled")

            // Emulator endpoints name the resource by URL too: http://127.0.0.1:PORT/manage/.default.
            let byURL = try await delegatedToken(h, tenant: tenant, scope: "\(h.base)/manage/.default")
            #expect(try await h.send(.GET, list, headers: [("Authorization", "Bearer \(byURL)")]).status == 200)

            // Without ActivityFeed.Read: 403 AF10001.
            var app = try #require(h.firstTenant.apps.first { $0.appId.lowercased() == h.clientID.lowercased() })
            app.secret = h.clientSecret
            app.managementDelegatedScopes = []
            try h.emulator.registerApp(tenant: tenant, app)
            let bare = try await delegatedToken(h, tenant: tenant, scope: "https://manage.office.com/.default")
            let forbidden = try await h.send(.GET, list, headers: [("Authorization", "Bearer \(bare)")])
            #expect(forbidden.status == 403)
            #expect((forbidden.json["error"] as? [String: Any])?["code"] as? String == "AF10001", "\(forbidden.text)")
        }
    }
}
