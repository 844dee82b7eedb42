import Foundation

// tenantsync-bench: the measured side of the benchmarks (Benchmarks/run.sh drives it).
//   tenantsync-bench sync full|delta --url URL --tenant ID --db PATH
//   tenantsync-bench tokens --url URL --dir DIR [--grants 10000] [--idle-seconds 60] [--max-in-flight 32]
//   tenantsync-bench fleet-seed --config TOML --tenants N   (Benchmarks/fleet.sh drives it)
//   tenantsync-bench cluster-seed --config TOML --url URL --tenants N --grants M [--concurrency 16]   (Benchmarks/cluster.sh)
let arguments = Arguments(all: Array(CommandLine.arguments.dropFirst()))
do {
    switch try arguments.positional(0, "a command (sync)") {
    case "sync": try await SyncCommand.run(arguments)
    case "tokens": try await TokensCommand.run(arguments)
    case "fleet-seed": try await FleetCommand.run(arguments)
    case "cluster-seed": try await ClusterSeedCommand.run(arguments)
    case let other: throw BenchError("unknown command \(other)")
    }
} catch {
    FileHandle.standardError.write(Data("tenantsync-bench: \(error)\n".utf8))
    exit(1)
}
