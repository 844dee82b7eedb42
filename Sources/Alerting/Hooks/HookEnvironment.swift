/// The environment a hook runs with: `PATH`, `LANG` and the documented `TENANTSYNC_*` variables, nothing else.
///
/// The daemon's own environment holds what a hook must never see or use: `CREDENTIALS_DIRECTORY` (the
/// sealing key, the client secret, the SMTP password), `NOTIFY_SOCKET` and `WATCHDOG_*` (a hook could
/// report the daemon ready or healthy), `LISTEN_*` (socket activation). So the environment is built from
/// an allow-list, not by removing names from the daemon's.
public struct HookEnvironment: Sendable, Equatable {
    /// Used when the daemon itself has no `PATH` (systemd always sets one).
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// The prefix of the variables the daemon sets for a hook.
    public static let variablePrefix = "TENANTSYNC_"

    /// `NAME=value`, sorted by name.
    public let entries: [String]

    /// - Parameters:
    ///   - daemon: the daemon's environment; only `PATH` and `LANG` are taken from it.
    ///   - variables: the daemon's variables for this run; names outside `TENANTSYNC_*` are dropped.
    public init(daemon: [String: String], variables: [String: String]) {
        var chosen: [String: String] = ["PATH": daemon["PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultPath]
        if let lang = daemon["LANG"] { chosen["LANG"] = lang }
        for (name, value) in variables where name.hasPrefix(Self.variablePrefix) && name.count > Self.variablePrefix.count {
            // A NUL would end the entry early in the C environment block; such a value is not passed at all.
            guard !name.contains("="), !name.utf8.contains(0), !value.utf8.contains(0) else { continue }
            chosen[name] = value
        }
        entries = chosen.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}
