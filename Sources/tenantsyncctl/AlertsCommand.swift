import ArgumentParser
import ControlPlane

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List alerts, or acknowledge one.",
        subcommands: [List.self, Acknowledge.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand, ControlSubcommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List unacknowledged alerts (all with --all).")
        @ParentCommand var root: TenantSyncCtl

        @Flag(help: "Include acknowledged alerts.")
        var all = false

        @Option(help: ArgumentHelp("Show at most this many (1-1000; default 100).", valueName: "n"))
        var limit: Int?

        @Option(help: ArgumentHelp("Only alerts in this state: unacknowledged, acknowledged or any (overrides --all).", valueName: "state"))
        var state: String?

        @Option(help: ArgumentHelp("Only alerts about this tenant (id or primary domain).", valueName: "tenant"), completion: CompletionCandidates.tenants)
        var tenant: String?

        // Checked by the daemon, which answers InvalidArgument with the accepted values.
        @Option(help: ArgumentHelp("Only alerts about an account of this service (e.g. teams-chat).", valueName: "service"))
        var service: String?

        @Option(help: ArgumentHelp("Start after this cursor (the 'next' of the previous page).", valueName: "cursor"))
        var after: String?

        func run() async throws {
            try await global.withClient { client in
                let page = try await client.listAlerts(
                    ListAlertsRequest(all: all ? true : nil, limit: limit, state: state, tenant: tenant, service: service, after: after)
                )
                if global.json { return print(try ControlJSON.encode(page)) }
                let alerts = page.alerts
                var table = TextTable("ID", "CREATED", "SEVERITY", "KIND", "ACK", "DELIVERY", "SUBJECT")
                for alert in alerts {
                    let delivery = alert.deliveries.map { "\($0.channel):\($0.state.rawValue)" }.joined(separator: ",")
                    table.add(String(alert.id), Show.time(alert.createdAt), alert.severity.rawValue, alert.kind, alert.acknowledgedAt == nil ? "no" : "yes", Show.text(delivery), alert.subject)
                }
                print(table.render())
                if let next = page.next { print("More alerts follow: add --after \(next)") }
            }
        }
    }

    struct Acknowledge: AsyncParsableCommand, ControlSubcommand {
        static let configuration = CommandConfiguration(commandName: "ack", abstract: "Acknowledge an alert.")
        @ParentCommand var root: TenantSyncCtl

        @Argument(help: "The alert id.")
        var id: Int64

        func run() async throws {
            try await global.withClient { client in
                let alert = try await client.acknowledgeAlert(id: id)
                if global.json { return print(try ControlJSON.encode(alert)) }
                print("Acknowledged alert \(alert.id): \(TerminalText.line(alert.subject))")
            }
        }
    }
}
