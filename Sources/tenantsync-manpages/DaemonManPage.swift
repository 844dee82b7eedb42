import ManualPages

/// tenantsyncd(8): the options from the daemon's parser, then what an operator needs around them.
enum DaemonManPage {
    static func page(command: ToolInfo.Command, date: String) -> ManPage {
        ManPage(
            command: command,
            section: 8,
            date: date,
            synopsis: "[\\fB\\-\\-config\\fR \\fIfile\\fR] [\\fB\\-\\-check\\-config\\fR | \\fB\\-\\-migrate\\-to\\-postgresql\\fR \\fIurl\\fR]",
            trailer: [
                .init("RUNNING", [
                    "tenantsyncd runs as the systemd service \\fBtenantsyncd.service\\fR, started by its socket unit \\fBtenantsyncd.socket\\fR at the first \\fBtenantsyncctl\\fR(8) call:",
                    ".PP", ".nf", "systemctl enable \\-\\-now tenantsyncd.socket", "usermod \\-aG tenantsync alice", "journalctl \\-u tenantsyncd \\-x", ".fi",
                    ".PP",
                    "At start the daemon applies the schema migrations its database lacks; before the first one changes an existing database it copies the database to \\fItenantsync.sqlite.schema\\-NNNN.bak\\fR beside it (NNNN: the schema version of the copy). A database written by a newer tenantsync is refused and left unchanged.",
                ]),
                .init("MOVING TO POSTGRESQL", [
                    "With the daemon stopped, \\fBtenantsyncd \\-\\-migrate\\-to\\-postgresql postgresql://\\fIuser\\fB@\\fIhost\\fB:\\fIport\\fB/\\fIdatabase\\fR copies the SQLite state into an empty PostgreSQL database and exits. The password, TLS mode and CA come from the [database] section (password_file, tls, ca_file); the key is the daemon's. It takes the state directory's lock (a running daemon makes it exit 75), prepares the database as a start would (a database sealed with another key: exit 77), refuses a database holding any data (exit 73, naming what it holds), then copies every table in one transaction, keeping ids and sealed secrets as they are, advances the id sequences, checks every table's row count and that every secret opens, and only then commits. It prints one line per table. The SQLite file is left as it was.",
                ]),
                .init("FILES", [
                    ".TP", ".I /etc/tenantsync/tenantsyncd.toml", "The configuration, see \\fBtenantsyncd.toml\\fR(5).",
                    ".TP", ".I /var/lib/tenantsync/tenantsync.sqlite", "The state database (SQLite, WAL): accounts, sealed tokens, directory, alerts.",
                    ".TP", ".I /var/lib/tenantsync/tenantsync.sqlite.schema\\-NNNN.bak", "Copies taken before a schema migration.",
                    ".TP", ".I /etc/credstore/tenantsync.key", "The key that seals the secrets in the database, passed as the systemd credential \\fBtenantsync.key\\fR; without it the daemon creates \\fI/var/lib/tenantsync/tenantsync.key\\fR.",
                    ".TP", ".I /run/tenantsync/control", "The control socket (Varlink, interface io.tenantsync.Control).",
                ]),
                .init("ENVIRONMENT", [
                    ".TP", ".B STATE_DIRECTORY, RUNTIME_DIRECTORY, CREDENTIALS_DIRECTORY", "Set by systemd; the state directory, the control socket's directory and the secrets.",
                    ".TP", ".B LISTEN_FDS, LISTEN_PID", "Socket activation of the control socket.",
                    ".TP", ".B TENANTSYNC_LOG_LEVEL", "trace, debug, info (default), notice, warning, error or critical.",
                ]),
                .init("SIGNALS", [
                    ".TP", ".B SIGTERM, SIGINT", "Graceful shutdown within [daemon] shutdown_timeout.",
                    ".TP", ".B SIGHUP", "Re-read the configuration (also \\fBsystemctl reload tenantsyncd\\fR).",
                ]),
                .init("EXIT STATUS", [
                    "0 stopped cleanly (or copied); 64 a bad \\-\\-migrate\\-to\\-postgresql url; 65 the database has a newer schema; 66 no SQLite state to copy; 69 the PostgreSQL server does not answer; 70 internal error (a copy that does not verify); 73 a file cannot be created, or the copy's target holds data; 74 the database cannot be opened or is corrupt; 75 the database is locked by another tenantsyncd; 77 the key is missing, unsafe or wrong; 78 configuration error (\\fIFILE\\fR:\\fILINE\\fR: \\fImessage\\fR on stderr).",
                ]),
                .init("SEE ALSO", ["\\fBtenantsyncctl\\fR(8), \\fBtenantsyncd.toml\\fR(5), \\fBsystemd.service\\fR(5), \\fBjournalctl\\fR(1)"]),
            ]
        )
    }
}
