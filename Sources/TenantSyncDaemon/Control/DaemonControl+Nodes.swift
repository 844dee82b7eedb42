import ControlPlane
import Foundation
import TenantSyncCore

/// The daemons sharing the store: `ListNodes`, and the cluster's counts in `Status`.
extension DaemonControl {
    /// One query on a shared store, whatever the number of nodes and leases; none on SQLite.
    func listNodes(context: ControlContext) async throws -> [NodeInfo] {
        guard let cluster else { return [soleNode] }
        return try await cluster.nodes().map { NodeInfo($0, leaseDuration: cluster.leaseDuration, answering: $0.name == nodeName) }
    }

    /// The nodes counted, on a shared store only: alone on SQLite, this daemon is no news.
    func clusterCounts(context: ControlContext) async throws -> ClusterCounts? {
        guard cluster != nil else { return nil }
        let nodes = try await listNodes(context: context)
        return ClusterCounts(nodes: nodes.count, alive: nodes.count(where: \.alive))
    }

    /// This daemon on the embedded store: answering, so alive; it takes no leases, having no one to share with.
    private var soleNode: NodeInfo {
        let now = Date()
        return NodeInfo(
            name: nodeName, version: TenantSyncVersion.current, startedAt: startedAt, lastHeartbeatAt: now, silentSeconds: 0, alive: true,
            leases: [], answering: true
        )
    }
}
