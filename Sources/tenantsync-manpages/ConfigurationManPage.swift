import ManualPages
import TenantSyncConfig

/// tenantsyncd.toml(5), rendered from ``ConfigurationReference`` (the same table README shows).
enum ConfigurationManPage {
    static func render(date: String) -> String {
        var out: [String] = [
            ".TH TENANTSYNCD.TOML 5 \"\(date)\" \"tenantsync\" \"tenantsync manual\"",
            ".SH NAME",
            "tenantsyncd.toml \\- configuration of tenantsyncd",
            ".SH SYNOPSIS",
            ".I /etc/tenantsync/tenantsyncd.toml",
            ".SH DESCRIPTION",
            "TOML; every key is optional. Unknown keys, wrong types and bad values are refused with \\fIFILE\\fR:\\fILINE\\fR: \\fImessage\\fR. "
                + "Durations are written 90s, 10m, 2h, 1h30m. Secrets are never in this file: it names files, and a relative name or a missing one "
                + "is looked up in \\fB$CREDENTIALS_DIRECTORY\\fR (systemd credentials).",
            ".PP",
            "Check a change with \\fBtenantsyncd \\-\\-check\\-config \\-\\-config\\fR \\fIfile\\fR and apply it with \\fBsystemctl reload tenantsyncd\\fR.",
        ]
        for section in ConfigurationReference.sections {
            out += [".SH \"\(Roff.escape(section))\""]
            for key in ConfigurationReference.keys where key.section == section {
                out += [
                    ".TP",
                    key.names.map { "\\fB\(Roff.escape($0))\\fR" }.joined(separator: ", ") + " (default: " + Roff.inline(markdown: key.defaultValue) + ")",
                    Roff.inline(markdown: key.meaning),
                ]
            }
        }
        out += [
            ".SH SEE ALSO",
            "\\fBtenantsyncd\\fR(8), \\fBtenantsyncctl\\fR(8), https://toml.io",
        ]
        return out.joined(separator: "\n")
    }
}
