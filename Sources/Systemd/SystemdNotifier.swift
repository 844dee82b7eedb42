import CSystemd

/// Sends service state to the service manager through `sd_notify(3)`.
///
/// Outside systemd (`NOTIFY_SOCKET` unset) every call is a cheap no-op.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// Sends one or more `KEY=VALUE` lines; returns whether the manager received them.
    @discardableResult
    public func notify(_ lines: String...) -> Bool {
        let state = lines.joined(separator: "\n")
        return sd_notify(0, state) > 0
    }
}
