/// The configuration reference: every key `tenantsyncd.toml` accepts, its default and its meaning.
///
/// The one source of the key documentation: `tenantsyncd.toml(5)` is generated from it at
/// build time, and tests check that README's table says the same and that the loader accepts
/// exactly these keys. Texts are Markdown inline (backticks for literals, `**` for emphasis).
public enum ConfigurationReference {
    public static let keys: [ConfigurationKey] = [
        ConfigurationKey(
            "[daemon]", ["state_directory"],
            default: "`$STATE_DIRECTORY` or `/var/lib/tenantsync`",
            meaning: "database, lock and key file"
        ),
        ConfigurationKey(
            "[daemon]", ["control_socket"],
            default: "`$RUNTIME_DIRECTORY/control` or `/run/tenantsync/control`",
            meaning: "Varlink control socket"
        ),
        ConfigurationKey(
            "[daemon]", ["control_group"],
            default: "`tenantsync`",
            meaning: "group allowed to use the control socket (besides root)"
        ),
        ConfigurationKey(
            "[daemon]", ["key_file"],
            default: "`<state_directory>/tenantsync.key`",
            meaning: "secret-sealing key, unless the `tenantsync.key` credential exists"
        ),
        ConfigurationKey(
            "[daemon]", ["log_target"],
            default: "`auto`",
            meaning: "`auto` (journal when stderr is the journal), `journal`, `stderr`"
        ),
        ConfigurationKey(
            "[daemon]", ["shutdown_timeout"],
            default: "`30s`",
            meaning: "bound on graceful shutdown"
        ),
        ConfigurationKey(
            "[daemon]", ["testing_fault_switches"],
            default: "`false`",
            meaning: "**test-only**: enables fault switches used by the end-to-end test; never set in production"
        ),
        ConfigurationKey(
            "[daemon]", ["node_name"],
            default: "the host name",
            meaning: "this daemon's name among others: the `node` label of `tenantsync_node_info`, PostgreSQL's `application_name`; 1 to 63 printable ASCII characters without spaces (restart to change)"
        ),
        ConfigurationKey(
            "[database]", ["url"],
            default: "none (SQLite in `state_directory`)",
            meaning: "`postgresql://USER@HOST:PORT/DATABASE` (port 5432 by default, an IPv6 host in brackets) to keep the state in PostgreSQL; no password and no query parameters in it; see [PostgreSQL (preview)](#postgresql-preview) (restart to change)"
        ),
        ConfigurationKey(
            "[database]", ["password_file"],
            default: "credential `database-password`; neither: no password (trust or peer authentication)",
            meaning: "the database user's password; owned by the daemon's user with mode 0600 like the sealing key; one trailing newline is cut"
        ),
        ConfigurationKey(
            "[database]", ["tls"],
            default: "`verify-full`",
            meaning: "`verify-full` (certificate and host name checked), `require` (encrypted, certificate not checked) or `disable` (loopback hosts only)"
        ),
        ConfigurationKey(
            "[database]", ["ca_file"],
            default: "system trust store",
            meaning: "CA bundle for the database server's certificate"
        ),
        ConfigurationKey(
            "[cluster]", ["lease_duration"],
            default: "`30s`",
            meaning: "how long a node's lease on work lasts unless renewed (5s–10m); used when several daemons share a PostgreSQL database (see [Running several daemons](#running-several-daemons))"
        ),
        ConfigurationKey(
            "[microsoft]", ["authority"],
            default: "`https://login.microsoftonline.com`",
            meaning: "identity platform; `http://` only for loopback (the emulator)"
        ),
        ConfigurationKey(
            "[microsoft]", ["graph"],
            default: "`https://graph.microsoft.com`",
            meaning: "Microsoft Graph"
        ),
        ConfigurationKey(
            "[microsoft]", ["outlook"],
            default: "`https://outlook.office365.com`",
            meaning: "Exchange Online (EWS, and the admin API `/adminapi/beta/{tenant}/InvokeCommand` that configures the Inline Mode mail flow)"
        ),
        ConfigurationKey(
            "[microsoft]", ["management"],
            default: "`https://manage.office.com`",
            meaning: "Office 365 Management APIs (Inline Mode's activity-data permission); `http://` only for loopback"
        ),
        ConfigurationKey(
            "[microsoft]", ["client_id"],
            default: "`5f1e2c3a-7b4d-4e8f-9a0b-1c2d3e4f5a6b`",
            meaning: "the product's multi-tenant app id"
        ),
        ConfigurationKey(
            "[microsoft]", ["client_secret_file"],
            default: "credential `microsoft-client-secret`",
            meaning: "that app's client secret"
        ),
        ConfigurationKey(
            "[microsoft]", ["client_secret_expires"],
            default: "none",
            meaning: "the secret's expiry date (`2027-06-30`, read as 00:00 UTC that day), for the alerts `credential-expiring` (30, 7 and 1 days ahead) and `credential-expired`"
        ),
        ConfigurationKey(
            "[microsoft]", ["client_certificate_file"],
            default: "none",
            meaning: "authenticate with a certificate instead of a secret (PEM; see \"Certificates\"); excludes `client_secret_file`"
        ),
        ConfigurationKey(
            "[microsoft]", ["client_key_file"],
            default: "credential `microsoft-client-key`",
            meaning: "the certificate's private key (PEM, RSA, 2048 bits or more, unencrypted); owned by the daemon's user with mode 0600 like the sealing key; a key that does not match the certificate is refused at `--check-config`"
        ),
        ConfigurationKey(
            "[microsoft]", ["request_timeout"],
            default: "`30s`",
            meaning: "per HTTP request"
        ),
        ConfigurationKey(
            "[microsoft]", ["cloud"],
            default: "`global`",
            meaning: "`global`, `usgov` (GCC High), `usgov-dod` (DoD) or `china` (21Vianet): sets `authority`, `graph`, `outlook` and `management` to that cloud's hosts; see [National clouds](#national-clouds)"
        ),
        ConfigurationKey(
            "[microsoft]", ["proxy"],
            default: "none (direct)",
            meaning: "`http://HOST:PORT` of an HTTP CONNECT proxy every Microsoft request goes through; see [Outbound proxy](#outbound-proxy)"
        ),
        ConfigurationKey(
            "[microsoft]", ["proxy_username"],
            default: "none",
            meaning: "Basic proxy authentication user"
        ),
        ConfigurationKey(
            "[microsoft]", ["proxy_password_file"],
            default: "credential `microsoft-proxy-password` (read only with `proxy_username`)",
            meaning: "its password"
        ),
        ConfigurationKey(
            "[microsoft]", ["no_proxy"],
            default: "`[]`",
            meaning: "hosts (`login.microsoftonline.us`) or domains (`.example.com`, `*.example.com`; `*` for all) reached directly"
        ),
        ConfigurationKey(
            "[smtp]", ["host"],
            default: "empty (mail off)",
            meaning: "SMTP server"
        ),
        ConfigurationKey(
            "[smtp]", ["port"],
            default: "587 (465 for `tls`, 25 for `none`)",
            meaning: ""
        ),
        ConfigurationKey(
            "[smtp]", ["security"],
            default: "`starttls`",
            meaning: "`starttls`, `tls` (implicit) or `none`; with `none`, AUTH (the password) is sent only when the address connected to is loopback (127.0.0.0/8, `::1`), whatever the host is called; with `starttls`, a server that sends anything between its `220` and the TLS handshake is dropped (response injection)"
        ),
        ConfigurationKey(
            "[smtp]", ["username"],
            default: "none",
            meaning: "AUTH user"
        ),
        ConfigurationKey(
            "[smtp]", ["password_file"],
            default: "credential `smtp-password`",
            meaning: "AUTH password"
        ),
        ConfigurationKey(
            "[smtp]", ["from"],
            default: "`tenantsync@localhost`",
            meaning: "sender address"
        ),
        ConfigurationKey(
            "[smtp]", ["to"],
            default: "`[]`",
            meaning: "administrators to mail (required when `host` is set)"
        ),
        ConfigurationKey(
            "[smtp]", ["ca_file"],
            default: "system trust store",
            meaning: "CA bundle for the server's certificate"
        ),
        ConfigurationKey(
            "[smtp]", ["timeout"],
            default: "`30s`",
            meaning: "per SMTP step"
        ),
        ConfigurationKey(
            "[sync]", ["daily_window_start"],
            default: "`02:00`",
            meaning: "UTC start of the daily sync window"
        ),
        ConfigurationKey(
            "[sync]", ["daily_window_length"],
            default: "`4h`",
            meaning: "tenants are spread over the window"
        ),
        ConfigurationKey(
            "[sync]", ["mass_deletion_threshold"],
            default: "`0.2`",
            meaning: "share of targets a run may remove before it is held"
        ),
        ConfigurationKey(
            "[sync]", ["max_concurrent_tenants"],
            default: "`4`",
            meaning: "tenants synced at once"
        ),
        ConfigurationKey(
            "[sync]", ["graph_budget_share"],
            default: "`0.25`",
            meaning: "share (above 0, at most 1) of each tenant's and the app's Microsoft Graph resource-unit budget the syncs may use; the rest stays for the scanner under the same app id (restart to change)"
        ),
        ConfigurationKey(
            "[tokens]", ["refresh_margin"],
            default: "`10m`",
            meaning: "refresh this long before expiry"
        ),
        ConfigurationKey(
            "[tokens]", ["max_in_flight"],
            default: "`32`",
            meaning: "concurrent token refreshes"
        ),
        ConfigurationKey(
            "[teams]", ["evaluation_monthly_calls"],
            default: "`500`",
            meaning: "Graph calls a month a Teams Chat account in evaluation mode may make; the daemon counts its own, warns (alert `evaluation-budget-low`) at 80 % and alerts `evaluation-budget-exhausted` when Microsoft answers 402 (restart to change)"
        ),
        ConfigurationKey(
            "[provisioning]", ["consent_timeout"],
            default: "`10m`",
            meaning: "how long the loopback listener of an authorization-code consent waits for the administrator (30s–1h; restart to change)"
        ),
        ConfigurationKey(
            "[[hooks]]", ["name", "command", "events", "timeout"],
            default: "none",
            meaning: "commands (argv, no shell) run with each matching alert as JSON on stdin"
        ),
        ConfigurationKey(
            "[metrics]", ["listen"],
            default: "none (no endpoint)",
            meaning: "`HOST:PORT` (`[IPV6]:PORT`) of the Prometheus endpoint `/metrics`, plain `http`; see [Monitoring](#monitoring)"
        ),
    ]

    /// The tables in the order the reference lists them, e.g. `[daemon]`, `[[hooks]]`.
    public static var sections: [String] {
        var seen: [String] = []
        for key in keys where !seen.contains(key.section) { seen.append(key.section) }
        return seen
    }

    /// The row of README's "Configuration reference" table for `key`.
    public static func markdownRow(_ key: ConfigurationKey) -> String {
        let names = "`\(key.section) \(key.names[0])`" + key.names.dropFirst().map { ", `\($0)`" }.joined()
        return "| \(names) | \(key.defaultValue) |" + (key.meaning.isEmpty ? " |" : " \(key.meaning) |")
    }
}
