import Foundation

/// Exchange Online's admin REST API, as Exchange Online PowerShell V3 calls it:
/// `POST {outlook}/adminapi/beta/{tenantId}/InvokeCommand` with `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}`.
///
/// Answers `{"@odata.context":…,"@adminapi.warnings":[],"value":[…]}`; failures carry an `error` object with
/// the HTTP status Exchange uses: 401 for a missing or unusable token, 403 when the caller lacks
/// `Exchange.Manage` (delegated) / `Exchange.ManageAsApp` (app-only) or the Exchange Administrator role,
/// 400 for an unknown cmdlet or parameter, a missing mandatory parameter, a duplicate name or an unknown identity.
extension World {
    private struct InvokeBody: Decodable {
        struct Input: Decodable {
            var cmdletName: String
            var parameters: [String: ExchangeValue]?
            enum CodingKeys: String, CodingKey {
                case cmdletName = "CmdletName"
                case parameters = "Parameters"
            }
        }
        var cmdletInput: Input
        enum CodingKeys: String, CodingKey { case cmdletInput = "CmdletInput" }
    }

    private struct Success: Encodable {
        var context: String
        var warnings: [String] = []
        var value: [[String: ExchangeValue]]
        enum CodingKeys: String, CodingKey {
            case context = "@odata.context"
            case warningsType = "adminapi.warnings@odata.type"
            case warnings = "@adminapi.warnings"
            case value
        }
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(context, forKey: .context)
            try container.encode("#Collection(String)", forKey: .warningsType)
            try container.encode(warnings, forKey: .warnings)
            try container.encode(value, forKey: .value)
        }
    }

    /// The template id of the built-in Global Administrator role, which also may run every cmdlet.
    static let globalAdministratorRoleID = "62e90394-69f5-4237-9190-012177145e10"

    /// Where `adminapi` sits in the path (`/adminapi/beta/{tenant}/InvokeCommand`, optionally below `/outlook`).
    static func exchangeAdminTenant(_ segments: [String]) -> String? {
        guard let i = segments.firstIndex(where: { $0.lowercased() == "adminapi" }), segments.count == i + 4,
              segments[i + 3].lowercased() == "invokecommand" else { return nil }
        return segments[i + 2]
    }

    func handleExchangeAdmin(_ request: EmulatorRequest, baseURL: String, now: Double) -> EmulatorResponse {
        guard request.method == "POST" else {
            return ExchangeAdminError.plain(405, "MethodNotAllowed", "The requested resource does not support http method '\(request.method)'.")
        }
        let token: AccessTokenRecord
        switch authenticate(request, resource: .outlook, now: now) {
        case .failure(let error):
            // A claims challenge keeps its own WWW-Authenticate (continuous access evaluation).
            return ExchangeAdminError.plain(401, "Unauthorized", "The access token is missing, invalid, expired or not for Exchange Online: \(error.message)",
                                            headers: error.headers.isEmpty
                                                ? [("WWW-Authenticate", "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", error=\"invalid_token\"")]
                                                : error.headers)
        case .success(let record):
            token = record
        }
        let tenant = tenants[token.tenant]
        tenant.count("exchange")
        let pathTenant = Self.exchangeAdminTenant(request.segments) ?? ""
        guard tenantIndex(pathTenant) == token.tenant else {
            return ExchangeAdminError.plain(403, "Forbidden", "The tenant '\(pathTenant)' in the URL is not the tenant of the access token.")
        }
        let permission = token.appOnly ? "Exchange.ManageAsApp" : "Exchange.Manage"
        guard token.permissions.contains(permission) else {
            tenant.count("exchange.forbidden")
            return ExchangeAdminError.plain(403, "Forbidden", "The access token does not carry the \(permission) permission needed to run Exchange cmdlets.")
        }
        // The role is assigned to the product's app. Only an assignment in effect counts: an eligible (PIM) one
        // would need an activation, which an app cannot perform.
        let hasRole = tenant.roleAssignments.contains {
            $0.isInEffect && $0.appId.lowercased() == token.appID.lowercased()
                && [RoleAssignment.exchangeAdministratorRoleID, Self.globalAdministratorRoleID].contains($0.roleDefinitionId)
        }
        guard hasRole else {
            tenant.count("exchange.forbidden")
            return ExchangeAdminError.plain(403, "Forbidden", "The app \(token.appID) does not hold the Exchange Administrator role in this organization; the cmdlet was not run.")
        }
        let body: InvokeBody
        do {
            body = try JSONDecoder().decode(InvokeBody.self, from: Data(request.body))
        } catch {
            return ExchangeAdminError.cmdlet("Microsoft.Exchange.Admin.OData.Core.ODataException", "The request body is not a valid CmdletInput object.").response
        }
        let name = body.cmdletInput.cmdletName
        tenant.count("exchange.\(name)")
        do {
            let value = try runCmdlet(name, parameters: body.cmdletInput.parameters ?? [:], tenant: tenant, now: now)
            let success = Success(context: "\(baseURL)/adminapi/beta/\(tenant.id)/$metadata#Collection(Exchange.GenericHashTable)", value: value)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = (try? encoder.encode(success)) ?? Data("{}".utf8)
            return EmulatorResponse(status: 200, headers: [("Content-Type", "application/json; odata.metadata=minimal; charset=utf-8")], body: Array(data))
        } catch {
            return error.response
        }
    }

    private struct CmdletSpec {
        var verb: String
        var kind: ExchangeOrganization.Kind
        var mandatory: [String]
        var allowed: Set<String>
    }

    private static let commonParameters: Set<String> = ["Confirm", "ErrorAction", "WarningAction", "Verbose", "Debug"]

    private static let creationParameters: [ExchangeOrganization.Kind: Set<String>] = [
        .inboundConnector: ["Name", "ConnectorType", "SenderDomains", "SenderIPAddresses", "TlsSenderCertificateName", "RequireTls",
                            "RestrictDomainsToIPAddresses", "RestrictDomainsToCertificate", "Enabled", "Comment", "CloudServicesMailEnabled",
                            "TrustedOrganizations", "ConnectorSource", "EFSkipIPs", "EFSkipLastIP", "TreatMessagesAsInternal"],
        .outboundConnector: ["Name", "ConnectorType", "SmartHosts", "UseMXRecord", "RecipientDomains", "TlsSettings", "TlsDomain",
                             "IsTransportRuleScoped", "Enabled", "Comment", "RouteAllMessagesViaOnPremises", "CloudServicesMailEnabled",
                             "AllAcceptedDomains", "ConnectorSource", "TestMode", "SenderRewritingEnabled", "ValidationRecipients"],
        .transportRule: ["Name", "Enabled", "Priority", "Comments", "Mode", "FromScope", "SentToScope", "SetHeaderName", "SetHeaderValue",
                         "RouteMessageOutboundConnector", "StopRuleProcessing", "HeaderContainsMessageHeader", "HeaderContainsWords",
                         "ExceptIfHeaderContainsMessageHeader", "ExceptIfHeaderContainsWords", "SetSCL", "SenderIPRanges", "ExceptIfSenderIPRanges"],
    ]

    private static func spec(_ cmdlet: String) -> CmdletSpec? {
        let parts = cmdlet.split(separator: "-", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = ExchangeOrganization.Kind.allCases.first(where: { $0.noun.lowercased() == parts[1].lowercased() }) else {
            return nil
        }
        switch parts[0].lowercased() {
        case "get": return CmdletSpec(verb: "Get", kind: kind, mandatory: [], allowed: ["Identity"])
        case "new":
            let mandatory = kind == .inboundConnector ? ["Name", "SenderDomains"] : ["Name"]
            return CmdletSpec(verb: "New", kind: kind, mandatory: mandatory, allowed: creationParameters[kind] ?? [])
        case "remove": return CmdletSpec(verb: "Remove", kind: kind, mandatory: ["Identity"], allowed: ["Identity"])
        case "enable" where kind == .transportRule: return CmdletSpec(verb: "Enable", kind: kind, mandatory: ["Identity"], allowed: ["Identity"])
        case "disable" where kind == .transportRule: return CmdletSpec(verb: "Disable", kind: kind, mandatory: ["Identity"], allowed: ["Identity"])
        default: return nil
        }
    }

    private func runCmdlet(_ name: String, parameters: [String: ExchangeValue], tenant: EmulatedTenant, now: Double) throws(ExchangeAdminError) -> [[String: ExchangeValue]] {
        guard let spec = Self.spec(name) else {
            throw .cmdlet("System.Management.Automation.CommandNotFoundException",
                          "The term '\(name)' is not recognized as a name of a cmdlet, function, script file, or executable program.")
        }
        for key in parameters.keys where !spec.allowed.contains(key) && !Self.commonParameters.contains(key) {
            throw .cmdlet("Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException",
                          "Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. \(key)")
        }
        let missing = spec.mandatory.filter { key in
            switch parameters[key] {
            case nil, .null?: true
            case .string(let text)?: text.trimmingCharacters(in: .whitespaces).isEmpty
            default: false
            }
        }
        guard missing.isEmpty else {
            throw .cmdlet("System.Management.Automation.ParameterBindingException",
                          "Cannot process command because of one or more missing mandatory parameters: \(missing.joined(separator: " ")).")
        }
        let kind = spec.kind
        let identity = parameters["Identity"]?.text
        switch spec.verb {
        case "Get":
            guard let identity else { return tenant.exchange[kind] }
            guard let i = tenant.exchange.index(of: kind, identity: identity) else { throw .notFound(identity, tenant: tenant) }
            return [tenant.exchange[kind][i]]
        case "Remove":
            guard let identity, let i = tenant.exchange.index(of: kind, identity: identity) else { throw .notFound(identity ?? "", tenant: tenant) }
            tenant.exchange[kind].remove(at: i)
            return []
        case "Enable", "Disable":
            guard let identity, let i = tenant.exchange.index(of: kind, identity: identity) else { throw .notFound(identity ?? "", tenant: tenant) }
            tenant.exchange[kind][i]["State"] = .string(spec.verb == "Enable" ? "Enabled" : "Disabled")
            return []
        default:
            return [try create(kind, parameters: parameters, tenant: tenant, now: now)]
        }
    }

    private func create(_ kind: ExchangeOrganization.Kind, parameters: [String: ExchangeValue], tenant: EmulatedTenant, now: Double) throws(ExchangeAdminError) -> [String: ExchangeValue] {
        guard case .string(let name)? = parameters["Name"] else {
            throw .cmdlet("System.Management.Automation.ParameterBindingException", "Cannot bind parameter 'Name': a string is expected.")
        }
        if tenant.exchange.index(of: kind, identity: name) != nil {
            throw .cmdlet("Microsoft.Exchange.Configuration.Tasks.ManagementObjectAlreadyExistsException",
                          "An object with the name '\(name)' already exists in the organization \(tenant.domain). Choose another name.")
        }
        var object: [String: ExchangeValue] = [
            "Identity": .string(name), "Name": .string(name), "Guid": .string(UUID().uuidString.lowercased()),
            "WhenCreated": .string(EmulatorTime.iso(now)),
        ]
        for (key, value) in parameters where !Self.commonParameters.contains(key) { object[key] = value }
        switch kind {
        case .inboundConnector:
            object["Enabled"] = .bool(parameters["Enabled"]?.truth ?? true)
            object["ConnectorType"] = parameters["ConnectorType"] ?? .string("Partner")
            object["RequireTls"] = .bool(parameters["RequireTls"]?.truth ?? false)
        case .outboundConnector:
            let useMX = parameters["UseMXRecord"]?.truth ?? true
            if !useMX, (parameters["SmartHosts"].map { $0 == .null || $0 == .list([]) } ?? true) {
                throw .cmdlet("Microsoft.Exchange.Management.Tasks.ValidationException",
                              "SmartHosts must be specified when UseMXRecord is false.")
            }
            object["UseMXRecord"] = .bool(useMX)
            object["Enabled"] = .bool(parameters["Enabled"]?.truth ?? true)
            object["ConnectorType"] = parameters["ConnectorType"] ?? .string("Partner")
            object["IsTransportRuleScoped"] = .bool(parameters["IsTransportRuleScoped"]?.truth ?? false)
        case .transportRule:
            if let connector = parameters["RouteMessageOutboundConnector"]?.text, tenant.exchange.index(of: .outboundConnector, identity: connector) == nil {
                throw .notFound(connector, tenant: tenant)
            }
            object["State"] = .string((parameters["Enabled"]?.truth ?? true) ? "Enabled" : "Disabled")
            object["Enabled"] = nil
            object["Mode"] = parameters["Mode"] ?? .string("Enforce")
            object["Priority"] = parameters["Priority"] ?? .int(tenant.exchange.transportRules.count)
        }
        tenant.exchange[kind].append(object)
        return object
    }
}

/// An error of the Exchange admin API, in the shape Exchange sends.
struct ExchangeAdminError: Error {
    var response: EmulatorResponse

    /// `{"error":{"code","message"}}`: authentication and authorization failures.
    static func plain(_ status: Int, _ code: String, _ message: String, headers: [(String, String)] = []) -> EmulatorResponse {
        let body: [String: [String: String]] = ["error": ["code": code, "message": message]]
        let data = (try? JSONEncoder().encode(body)) ?? Data()
        return EmulatorResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers, body: Array(data))
    }

    /// A failed cmdlet: HTTP 400, `message` "Invalid Operation", the text in `details` (prefixed `|Type|`) and `innererror`.
    static func cmdlet(_ type: String, _ text: String) -> ExchangeAdminError {
        struct Detail: Encodable { var code = "Client"; var target = ""; var message: String }
        struct Internal: Encodable { var message: String; var type: String; var stacktrace = "" }
        struct Inner: Encodable {
            var message = "Invalid Operation"
            var type = "Microsoft.Exchange.Admin.OData.Core.ODataServiceException"
            var stacktrace = ""
            var internalexception: Internal
        }
        struct Body: Encodable { var code = "BadRequest"; var message = "Invalid Operation"; var details: [Detail]; var innererror: Inner }
        struct Envelope: Encodable { var error: Body }
        let envelope = Envelope(error: Body(details: [Detail(message: "|\(type)|\(text)")], innererror: Inner(internalexception: Internal(message: text, type: type))))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(envelope)) ?? Data()
        return ExchangeAdminError(response: EmulatorResponse(status: 400, headers: [("Content-Type", "application/json; charset=utf-8")], body: Array(data)))
    }

    static func notFound(_ identity: String, tenant: EmulatedTenant) -> ExchangeAdminError {
        cmdlet("Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
               "The operation couldn't be performed because object '\(identity)' couldn't be found on '\(tenant.domain)'.")
    }
}
