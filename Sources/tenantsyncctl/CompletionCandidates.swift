import ArgumentParser
import ControlPlane
import Foundation

/// Shell completion of account ids and tenant domains, asked of the daemon over the control socket.
///
/// The shell runs `tenantsyncctl ---completion ...` on Tab, which calls these closures. A
/// completion must never print an error into the command line or keep the shell waiting: an
/// unreachable daemon, a refused caller (not root, not in the control group) or a slow answer
/// gives no candidates, silently, within ``deadline(environment:)``.
enum CompletionCandidates {
    /// How long Tab may wait for the daemon: 2 s, or `TENANTSYNC_COMPLETION_TIMEOUT` seconds
    /// (for a large fleet on a loaded machine).
    static func deadline(environment: [String: String]) -> Duration {
        guard let text = environment["TENANTSYNC_COMPLETION_TIMEOUT"], let seconds = Double(text), seconds > 0, seconds <= 3_600 else {
            return .seconds(2)
        }
        return .milliseconds(Int(seconds * 1_000))
    }

    static let accountIDs = CompletionKind.custom { words, _, prefix in
        await accounts(words: words).map { String($0.id) }.filter { $0.hasPrefix(prefix) }
    }

    static let tenants = CompletionKind.custom { words, _, prefix in
        var seen = Set<String>()
        return await accounts(words: words).map(\.tenantDomain).filter { $0.hasPrefix(prefix) && seen.insert($0).inserted }
    }

    /// The first page of accounts, or none when the daemon cannot answer in time.
    static func accounts(words: [String]) async -> [AccountSummary] {
        let environment = ProcessInfo.processInfo.environment
        let path = socketPath(words: words, environment: environment)
        let deadline = deadline(environment: environment)
        return await withTaskGroup(of: [AccountSummary]?.self) { group in
            group.addTask {
                try? await ControlClient.withConnection(to: path) { client in try await client.listAccounts().accounts }
            }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? []
        }
    }

    /// `--socket PATH` or `--socket=PATH` on the command line being completed, else the default.
    static func socketPath(words: [String], environment: [String: String]) -> String {
        for (index, word) in words.enumerated() {
            if word == "--socket", index + 1 < words.count { return words[index + 1] }
            if word.hasPrefix("--socket=") { return String(word.dropFirst("--socket=".count)) }
        }
        return ControlClient.defaultSocketPath(environment: environment)
    }
}
