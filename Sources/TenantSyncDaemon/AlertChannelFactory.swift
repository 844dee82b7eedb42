import Alerting
import Logging
import TenantSyncConfig

/// Builds the alert channels a configuration asks for, at start and at each reload.
struct AlertChannelFactory: Sendable {
    /// Whether the journal channel exists. Decided once at start (journald listening), never by a reload:
    /// a reload must not retire the journal and drop its pending deliveries.
    let journal: Bool
    let logger: Logger

    /// The channels of `configuration`, in outbox-name order: `journal`, `smtp`, then each `hook:NAME`.
    func channels(_ configuration: DaemonConfiguration) -> [any AlertChannel] {
        var channels: [any AlertChannel] = journal ? [JournalAlertChannel()] : []
        let smtp = configuration.smtp
        if smtp.isEnabled {
            let client = SMTPClient(
                configuration: SMTPConfiguration(
                    host: smtp.host, port: smtp.port, security: SMTPConfiguration.Security(rawValue: smtp.security.rawValue) ?? .starttls,
                    username: smtp.username, password: smtp.password, from: smtp.from, to: smtp.to, caFile: smtp.caFile,
                    commandTimeout: smtp.timeout
                ),
                logger: logger
            )
            channels.append(SMTPAlertChannel(client: client, composer: AlertMailComposer(from: smtp.from, recipients: smtp.to)))
        }
        for hook in configuration.hooks {
            channels.append(HookAlertChannel(command: HookCommand(
                name: hook.name, arguments: hook.command, kinds: hook.events.isEmpty ? nil : Set(hook.events), timeout: hook.timeout
            )))
        }
        return channels
    }

    /// Channels present before and after a reload whose settings changed (their backlog is retried on the new ones).
    static func changedChannels(from old: DaemonConfiguration, to new: DaemonConfiguration) -> Set<String> {
        var changed: Set<String> = []
        if old.smtp.isEnabled, new.smtp.isEnabled, old.smtp != new.smtp { changed.insert("smtp") }
        let oldHooks = Dictionary(old.hooks.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for hook in new.hooks where oldHooks[hook.name].map({ $0 != hook }) ?? false {
            changed.insert("hook:\(hook.name)")
        }
        return changed
    }
}
