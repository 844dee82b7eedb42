import ArgumentParser
import ControlPlane

struct StatusCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the daemon's health: accounts, degraded accounts, next sync, alert delivery, the cluster's nodes.")

    @ParentCommand var root: TenantSyncCtl

    func run() async throws {
        try await global.withClient { client in
            let status = try await client.status()
            if global.json { return print(try ControlJSON.encode(status)) }
            print("tenantsyncd \(status.version), running since \(Show.time(status.startedAt))")
            if let failure = status.storeWriteFailure {
                print("DATABASE NOT WRITABLE since \(Show.time(failure.failingSince)) (\(failure.failures) failed write probes): token refreshes are paused so that no refresh token is lost.")
                print("  Last error: \(Show.text(failure.lastError))")
                print("  Next check: \(Show.time(failure.nextCheckAt)); free space or fix the state directory and refreshes resume on their own.")
            }
            if let cluster = status.cluster {
                print("Nodes: \(cluster.nodes) (\(cluster.alive) alive)\(cluster.alive < cluster.nodes ? "; `tenantsyncctl nodes` shows the silent ones" : "")")
            }
            let counts = status.accounts
            print("Accounts: \(counts.total) (\(counts.active) active, \(counts.provisioning) provisioning, \(counts.tokenInvalid) token-invalid)")
            if status.degraded.isEmpty {
                print("Degraded: none")
            } else {
                print("Degraded: \(Self.shown(status.degraded.count, of: status.degradedTotal, rest: "`tenantsyncctl accounts --state token-invalid` lists every invalid one"))")
                var table = TextTable("ID", "TENANT", "SERVICE", "STATE")
                for account in status.degraded {
                    table.add(String(account.id), account.tenantDomain, account.service.rawValue, account.state.rawValue)
                }
                print(indent(table.render()))
            }
            if let expiry = status.nearestCredentialExpiry {
                let whose = expiry.accountID.map { "Teams Chat app of account \($0)" } ?? "product app"
                let thumbprint = expiry.thumbprint.map { " \($0)" } ?? ""
                print("Nearest credential expiry: \(expiry.kind)\(thumbprint) of the \(whose) at \(Show.time(expiry.expiresAt))")
            }
            if let next = status.nextSync {
                print("Next sync: \(next.tenantDomain) at \(Show.time(next.at))")
            } else {
                print("Next sync: none scheduled")
            }
            if let held = status.heldSyncs, !held.isEmpty {
                print("Held syncs: \(Self.shown(held.count, of: status.heldSyncsTotal, rest: "`tenantsyncctl directory --tenant T` shows a tenant's")) (mass-deletion guard; settle with `tenantsyncctl sync --tenant T --confirm-held` or `--discard-held`)")
                var table = TextTable("RUN", "TENANT", "HELD AT", "WHY")
                for run in held {
                    table.add(String(run.id), run.tenantID, Show.time(run.finishedAt), Show.text(run.note))
                }
                print(indent(table.render()))
            }
            if !status.alertDelivery.isEmpty {
                print("Alert delivery:")
                var table = TextTable("CHANNEL", "PENDING", "OLDEST PENDING", "LAST DELIVERED", "LAST ERROR")
                for channel in status.alertDelivery {
                    table.add(channel.channel, String(channel.pending), Show.time(channel.oldestPendingAt), Show.time(channel.lastDeliveredAt), Show.text(channel.lastError))
                }
                print(indent(table.render()))
            }
            print("Unacknowledged alerts: \(status.unacknowledgedAlerts)")
        }
    }
}

extension StatusCommand {
    /// "3", or "100, the first 20 shown; REST" when the daemon listed only the first of them.
    static func shown(_ listed: Int, of total: Int?, rest: String) -> String {
        guard let total, total > listed else { return "\(listed)" }
        return "\(total), the first \(listed) shown; \(rest)"
    }
}

func indent(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
}
