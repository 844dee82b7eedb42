import ArgumentParser
import ControlPlane

struct NodesCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "List the daemons sharing the database, alive or silent, with the leases each holds.",
        discussion: """
            A node is alive while it was heard from within [cluster] lease_duration; a silent one may be dead, and \
            its leases expire to the others. The node that answered is marked *. On SQLite the daemon is the only node.
            """
    )

    @ParentCommand var root: TenantSyncCtl

    func run() async throws {
        try await global.withClient { client in
            let nodes = try await client.listNodes()
            if global.json { return print(try ControlJSON.encode(["nodes": nodes])) }
            guard !nodes.isEmpty else { return print("No node has announced itself to the database yet.") }
            print(Self.table(nodes))
        }
    }

    /// NODE, VERSION, STARTED, LAST HEARTBEAT, STATE, LEASES; a last line explains the mark of the answering node.
    static func table(_ nodes: [NodeInfo]) -> String {
        var table = TextTable("NODE", "VERSION", "STARTED", "LAST HEARTBEAT", "STATE", "LEASES")
        for node in nodes {
            let leases = node.leases.map { "\($0.kind) \($0.count)" }.joined(separator: ", ")
            table.add(
                node.name + (node.answering ? " *" : ""), node.version, Show.time(node.startedAt), "\(Show.age(node.silentSeconds)) ago",
                node.alive ? "alive" : "silent \(Show.age(node.silentSeconds))", Show.text(leases)
            )
        }
        return table.render() + (nodes.contains(where: \.answering) ? "\n* answered this call" : "")
    }
}
