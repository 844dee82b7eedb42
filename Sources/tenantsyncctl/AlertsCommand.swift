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

        @Option(help: "Show at most this many.")
        var limit: Int?

        func run() async throws {
            try await global.withClient { client in
                let alerts = try await client.listAlerts(ListAlertsRequest(all: all ? true : nil, limit: limit))
                if global.json { return print(try ControlJSON.encode(alerts)) }
                var table = TextTable("ID", "CREATED", "SEVERITY", "KIND", "ACK", "DELIVERY", "SUBJECT")
                for alert in alerts {
                    let delivery = alert.deliveries.map { "\($0.channel):\($0.state.rawValue)" }.joined(separator: ",")
                    table.add(String(alert.id), Show.time(alert.createdAt), alert.severity.rawValue, alert.kind, alert.acknowledgedAt == nil ? "no" : "yes", Show.text(delivery), alert.subject)
                }
                print(table.render())
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
