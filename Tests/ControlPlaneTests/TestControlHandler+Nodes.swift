import ControlPlane
import Foundation
import TenantSyncCore

/// Fixed answers for `ListNodes`: three daemons, one holding leases, one silent, the answering one in between.
extension TestControlHandler {
    static let nodes: [NodeRecord] = [
        NodeRecord(
            name: "node-a", version: "9.9.9", startedAt: now, lastHeartbeatAt: now.addingTimeInterval(-4), silentFor: .milliseconds(4_200),
            leasesHeld: [.sync: 1, .tokenRefresh: 12]
        ),
        NodeRecord(name: "node-b", version: "9.9.9", startedAt: now, lastHeartbeatAt: now, silentFor: .zero, leasesHeld: [:]),
        NodeRecord(
            name: "node-c", version: "9.9.8", startedAt: now.addingTimeInterval(-86_400), lastHeartbeatAt: now.addingTimeInterval(-754),
            silentFor: .seconds(754), leasesHeld: [:]
        ),
    ]

    func listNodes(context: ControlContext) async throws -> [NodeInfo] {
        Self.nodes.map { NodeInfo($0, leaseDuration: .seconds(30), answering: $0.name == "node-b") }
    }
}
