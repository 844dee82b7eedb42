import ArgumentParser
import Foundation

/// Prints tenantsyncctl(1) in roff, generated from the argument definitions.
///
/// ArgumentParser's `generate-manual` plugin is not available offline; this
/// renders the same command tree (`_dumpHelp`, the `--experimental-dump-help` JSON).
struct ManPageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-manpage",
        abstract: "Print the tenantsyncctl(1) man page (roff).",
        shouldDisplay: false
    )

    @Option(help: "The date printed in the page footer (YYYY-MM-DD).")
    var date: String = "2025-01-01"

    func run() throws {
        print(try ManPage.render(date: date))
    }
}

enum ManPage {
    struct ToolInfo: Decodable { var command: Command }
    struct Command: Decodable {
        var commandName: String
        var abstract: String?
        var discussion: String?
        var shouldDisplay: Bool?
        var arguments: [Argument]?
        var subcommands: [Command]?
    }
    struct Argument: Decodable {
        struct Name: Decodable { var kind: String; var name: String }
        var kind: String
        var names: [Name]?
        var valueName: String?
        var abstract: String?
        var isOptional: Bool?
        var isRepeating: Bool?
        var shouldDisplay: Bool?
    }

    static func render(date: String) throws -> String {
        let info = try JSONDecoder().decode(ToolInfo.self, from: Data(TenantSyncCtl._dumpHelp().utf8))
        let root = info.command
        var out: [String] = [
            ".TH TENANTSYNCCTL 1 \"\(date)\" \"tenantsync\" \"tenantsync manual\"",
            ".SH NAME",
            "tenantsyncctl \\- \(escape(root.abstract ?? ""))",
            ".SH SYNOPSIS",
            ".B tenantsyncctl",
            "[\\fB\\-\\-socket\\fR \\fIpath\\fR] [\\fB\\-\\-json\\fR] \\fIcommand\\fR [\\fIoptions\\fR]",
            ".SH DESCRIPTION",
            escape(root.discussion ?? root.abstract ?? ""),
            ".SH OPTIONS",
        ]
        out += options(of: root)
        out.append(".SH COMMANDS")
        for command in root.subcommands ?? [] where command.shouldDisplay != false && !["help"].contains(command.commandName) {
            out += section(command, path: [])
        }
        out += [
            ".SH ENVIRONMENT",
            ".TP", ".B TENANTSYNC_SOCKET", "The control socket used when \\fB\\-\\-socket\\fR is not given (default \\fI/run/tenantsync/control\\fR).",
            ".SH EXIT STATUS",
            "0 success; 64 usage error; 65 the daemon refused the data (unknown account or tenant, scope conflict, too many targets, ...); 66 an input file cannot be read; 67 the user asked about with directory --user is not protected; 69 the daemon is unreachable or lacks the method; 70 internal error; 75 temporary failure (retry later, or a sync run failed); 76 protocol error; 77 permission denied.",
            ".SH SEE ALSO",
            "tenantsyncd(8), https://varlink.org",
        ]
        return out.joined(separator: "\n")
    }

    static func section(_ command: Command, path: [String]) -> [String] {
        let full = (path + [command.commandName]).joined(separator: " ")
        var out = [".SS \(escape(full))", escape(command.abstract ?? "")]
        let positionals = (command.arguments ?? []).filter { $0.kind == "positional" && $0.shouldDisplay != false }
        if !positionals.isEmpty {
            out.append(".PP")
            out.append("Usage: \\fBtenantsyncctl \(escape(full))\\fR " + positionals.map { "\\fI\($0.valueName ?? "value")\\fR" }.joined(separator: " "))
        }
        if let discussion = command.discussion, !discussion.isEmpty { out += [".PP", escape(discussion)] }
        out += options(of: command)
        for child in command.subcommands ?? [] where child.shouldDisplay != false && child.commandName != "help" {
            out += section(child, path: path + [command.commandName])
        }
        return out
    }

    static func options(of command: Command) -> [String] {
        var out: [String] = []
        for argument in command.arguments ?? [] where argument.shouldDisplay != false {
            if argument.kind == "positional" {
                out += [".TP", "\\fI\(escape(argument.valueName ?? "value"))\\fR", escape(argument.abstract ?? "")]
                continue
            }
            let raw = (argument.names ?? []).map(\.name)
            guard !raw.isEmpty, !raw.contains("help"), !raw.contains("version") else { continue }
            let names = (argument.names ?? []).map { ($0.kind == "short" ? "\\-" : "\\-\\-") + escape($0.name) }
            var head = names.map { "\\fB\($0)\\fR" }.joined(separator: ", ")
            if argument.kind == "option" { head += " \\fI\(escape(argument.valueName ?? "value"))\\fR" }
            if argument.isRepeating == true { head += " ..." }
            out += [".TP", head, escape(argument.abstract ?? "")]
        }
        return out
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") || $0.hasPrefix("'") ? "\\&" + $0 : String($0) }
            .joined(separator: "\n")
    }
}
