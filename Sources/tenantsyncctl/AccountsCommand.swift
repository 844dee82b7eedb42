import ArgumentParser
import ControlPlane

struct AccountsCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts", abstract: "List the service accounts, filtered and one page at a time."
    )

    @ParentCommand var root: TenantSyncCtl

    @Option(help: ArgumentHelp("Only this tenant (id or primary domain).", valueName: "tenant"), completion: CompletionCandidates.tenants)
    var tenant: String?

    // Filter values are checked by the daemon, which answers InvalidArgument with the accepted values.
    @Option(help: ArgumentHelp("Only accounts in this state: provisioning, active or token-invalid.", valueName: "state"))
    var state: String?

    @Option(help: ArgumentHelp("Only accounts of this service (e.g. exchange-online).", valueName: "service"))
    var service: String?

    @Option(help: ArgumentHelp("Show at most this many (1-10000; default 1000).", valueName: "n"))
    var limit: Int?

    @Option(help: ArgumentHelp("Start after this cursor (the 'next' of the previous page).", valueName: "cursor"))
    var after: String?

    func run() async throws {
        try await global.withClient { client in
            let page = try await client.listAccounts(
                ListAccountsRequest(tenant: tenant, state: state, service: service, limit: limit, after: after)
            )
            if global.json { return print(try ControlJSON.encode(page)) }
            let accounts = page.accounts
            var table = TextTable("ID", "TENANT", "SERVICE", "STATE", "SCOPE", "LAST SYNC", "NEXT SYNC", "NEXT REFRESH", "INCIDENTS")
            for account in accounts {
                table.add(
                    String(account.id), account.tenantDomain, account.service.rawValue, account.state.rawValue,
                    Show.text(account.scope?.rawValue), Show.time(account.lastSyncAt), Show.time(account.nextSyncAt),
                    Show.time(account.nextRefreshAt), String(account.openIncidents)
                )
            }
            print(table.render())
            if let next = page.next { print("More accounts follow: add --after \(next)") }
        }
    }
}

struct AccountCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(commandName: "account", abstract: "Show one account: grants, token state, incidents, scope, last and next sync.")

    @ParentCommand var root: TenantSyncCtl

    @Argument(help: "The account id (see `accounts`).", completion: CompletionCandidates.accountIDs)
    var id: Int64

    func run() async throws {
        try await global.withClient { client in
            let account = try await client.account(id: id)
            if global.json { return print(try ControlJSON.encode(account)) }
            var facts: [(String, String)] = [
                ("Account", String(account.id)),
                ("Tenant", "\(account.tenantDomain) (\(account.tenantID))"),
                ("Service", "\(account.service.displayName) (\(account.service.rawValue))"),
                ("State", account.state.rawValue),
                ("Scope", Show.text(account.scope?.rawValue)),
            ]
            if let step = account.provisioningStep { facts.append(("Provisioning step", step)) }
            if let error = account.provisioningError { facts.append(("Provisioning error", error)) }
            if let app = account.appID { facts.append(("App id", app)) }
            if let expiry = account.clientSecretExpiresAt { facts.append(("Client secret expires", Show.time(expiry))) }
            if let model = account.licensingModel { facts.append(("Licensing model", model.rawValue)) }
            if let policy = account.inlinePolicy { facts.append(("Policy", policy)) }
            if let direction = account.inlineDirection {
                facts.append(("Direction", direction == .both ? "both (inbound and outbound)" : "inbound (upgrade: tenantsyncctl upgrade-outbound \(account.id))"))
            }
            if let run = account.lastSync {
                facts.append(("Last sync", "\(Show.time(run.startedAt)) \(run.trigger.rawValue) \(run.mode.rawValue) \(run.state.rawValue)\(run.error.map { ": \($0)" } ?? "")"))
            } else {
                facts.append(("Last sync", "-"))
            }
            if let held = account.heldSync {
                facts.append(("Held sync", "run \(held.id) \(held.note ?? "held by the mass-deletion guard")"))
                facts.append(("", "confirm: tenantsyncctl sync --tenant \(account.tenantDomain) --confirm-held"))
                facts.append(("", "discard: tenantsyncctl sync --tenant \(account.tenantDomain) --discard-held"))
            }
            facts.append(("Next sync", Show.time(account.nextSyncAt)))
            let width = facts.map(\.0.count).max() ?? 0
            for (key, value) in facts { print("\((key + ":").padding(toLength: width + 1, withPad: " ", startingAt: 0)) \(TerminalText.line(value))") }
            print("Grants:")
            var table = TextTable("GRANT", "FLOW", "STATE", "EXPIRES", "LAST REFRESH", "NEXT REFRESH", "FAILURES", "INCIDENT")
            for grant in account.grants {
                let incident = grant.incident.map { incident in
                    [incident.kind.rawValue, incident.error, incident.aadstsCode.map { "AADSTS\($0)" }].compactMap { $0 }.joined(separator: " ")
                }
                table.add(
                    grant.name, grant.flow.rawValue, grant.state.rawValue, Show.time(grant.token?.expiresAt),
                    Show.time(grant.token?.lastRefreshAt), Show.time(grant.token?.nextRefreshAt),
                    Show.number(grant.token?.consecutiveFailures), Show.text(incident)
                )
            }
            print(indent(table.render()))
            for grant in account.grants {
                guard let incident = grant.incident else { continue }
                print("Incident on \(grant.name): since \(Show.time(incident.firstSeenAt)), \(incident.occurrences) occurrence(s), trace \(Show.text(incident.traceID))")
                print("  Re-create the token: tenantsyncctl renew \(account.id)")
            }
        }
    }
}
