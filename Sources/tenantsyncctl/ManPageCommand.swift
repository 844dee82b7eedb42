import ArgumentParser
import Foundation
import ManualPages

/// Prints tenantsyncctl(8) in roff, generated from the argument definitions.
///
/// ArgumentParser's `generate-manual` plugin is not available offline; ``ManPage`` renders
/// the same command tree (`_dumpHelp`, the `--experimental-dump-help` JSON). `make` installs
/// the page through `tenantsync-manpages`, which runs this command.
struct ManPageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-manpage",
        abstract: "Print the tenantsyncctl(8) man page (roff).",
        shouldDisplay: false
    )

    @Option(help: "The date printed in the page footer (YYYY-MM-DD).")
    var date: String = "2025-01-01"

    func run() throws {
        print(try Self.page(date: date).render())
    }

    static func page(date: String) throws -> ManPage {
        let info = try JSONDecoder().decode(ToolInfo.self, from: Data(TenantSyncCtl._dumpHelp().utf8))
        return ManPage(
            command: info.command,
            section: 8,
            date: date,
            synopsis: "[\\fB\\-\\-socket\\fR \\fIpath\\fR] [\\fB\\-\\-json\\fR] \\fIcommand\\fR [\\fIoptions\\fR]",
            trailer: [
                .init("SHELL COMPLETION", [
                    "Completions for bash, zsh and fish come from \\fBtenantsyncctl \\-\\-generate\\-completion\\-script\\fR \\fIshell\\fR and are installed with the package.",
                    "Account ids and tenant domains are completed by asking the daemon over the control socket (\\fB\\-\\-socket\\fR or \\fBTENANTSYNC_SOCKET\\fR); when it cannot be reached or the caller is not allowed, nothing is offered.",
                ]),
                .init("ENVIRONMENT", [
                    ".TP", ".B TENANTSYNC_SOCKET",
                    "The control socket used when \\fB\\-\\-socket\\fR is not given (default \\fI/run/tenantsync/control\\fR).",
                    ".TP", ".B TENANTSYNC_COMPLETION_TIMEOUT",
                    "How many seconds shell completion waits for the daemon before offering nothing (default 2).",
                ]),
                .init("EXIT STATUS", [
                    "0 success; 64 usage error; 65 the daemon refused the data (unknown account or tenant, scope conflict, too many targets, ...); 66 an input file cannot be read; 67 the user asked about with directory \\-\\-user is not protected; 69 the daemon is unreachable or lacks the method; 70 internal error; 75 temporary failure (retry later, or a sync run failed); 76 protocol error; 77 permission denied.",
                ]),
                .init("SEE ALSO", ["\\fBtenantsyncd\\fR(8), \\fBtenantsyncd.toml\\fR(5), https://varlink.org"]),
            ]
        )
    }
}
