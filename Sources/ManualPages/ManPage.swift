/// A man page rendered from an ArgumentParser command tree: NAME, SYNOPSIS, DESCRIPTION,
/// OPTIONS and COMMANDS come from the parser, the sections after them from the caller.
public struct ManPage: Sendable {
    /// A section after COMMANDS (FILES, ENVIRONMENT, EXIT STATUS, SEE ALSO ...), as roff lines.
    public struct Section: Sendable {
        public var title: String
        public var lines: [String]

        public init(_ title: String, _ lines: [String]) {
            self.title = title
            self.lines = lines
        }
    }

    public var command: ToolInfo.Command
    public var section: Int
    public var date: String
    /// The SYNOPSIS after the bold command name, as roff.
    public var synopsis: String
    public var trailer: [Section]

    public init(command: ToolInfo.Command, section: Int, date: String, synopsis: String, trailer: [Section]) {
        self.command = command
        self.section = section
        self.date = date
        self.synopsis = synopsis
        self.trailer = trailer
    }

    public func render() -> String {
        let name = command.commandName
        var out: [String] = [
            ".TH \(name.uppercased()) \(section) \"\(date)\" \"tenantsync\" \"tenantsync manual\"",
            ".SH NAME",
            "\(Roff.escape(name)) \\- \(Roff.escape(command.abstract ?? ""))",
            ".SH SYNOPSIS",
            ".B \(Roff.escape(name))",
            synopsis,
            ".SH DESCRIPTION",
            Roff.escape(command.discussion ?? command.abstract ?? ""),
        ]
        let options = Self.options(of: command)
        if !options.isEmpty { out += [".SH OPTIONS"] + options }
        let commands = (command.subcommands ?? []).filter(Self.shown)
        if !commands.isEmpty {
            out.append(".SH COMMANDS")
            for child in commands { out += Self.section(child, tool: name, path: []) }
        }
        for part in trailer { out += [".SH \(part.title)"] + part.lines }
        return out.joined(separator: "\n")
    }

    private static func shown(_ command: ToolInfo.Command) -> Bool {
        command.shouldDisplay != false && command.commandName != "help"
    }

    private static func section(_ command: ToolInfo.Command, tool: String, path: [String]) -> [String] {
        let full = (path + [command.commandName]).joined(separator: " ")
        var out = [".SS \(Roff.escape(full))", Roff.escape(command.abstract ?? "")]
        let positionals = (command.arguments ?? []).filter { $0.kind == "positional" && $0.shouldDisplay != false }
        if !positionals.isEmpty {
            out.append(".PP")
            out.append("Usage: \\fB\(Roff.escape(tool)) \(Roff.escape(full))\\fR " + positionals.map { "\\fI\($0.valueName ?? "value")\\fR" }.joined(separator: " "))
        }
        if let discussion = command.discussion, !discussion.isEmpty { out += [".PP", Roff.escape(discussion)] }
        out += options(of: command)
        for child in (command.subcommands ?? []).filter(shown) {
            out += section(child, tool: tool, path: path + [command.commandName])
        }
        return out
    }

    private static func options(of command: ToolInfo.Command) -> [String] {
        var out: [String] = []
        for argument in command.arguments ?? [] where argument.shouldDisplay != false {
            if argument.kind == "positional" {
                out += [".TP", "\\fI\(Roff.escape(argument.valueName ?? "value"))\\fR", Roff.escape(argument.abstract ?? "")]
                continue
            }
            let raw = (argument.names ?? []).map(\.name)
            guard !raw.isEmpty, !raw.contains("help"), !raw.contains("version") else { continue }
            let names = (argument.names ?? []).map { ($0.kind == "short" ? "\\-" : "\\-\\-") + Roff.escape($0.name) }
            var head = names.map { "\\fB\($0)\\fR" }.joined(separator: ", ")
            if argument.kind == "option" { head += " \\fI\(Roff.escape(argument.valueName ?? "value"))\\fR" }
            if argument.isRepeating == true { head += " ..." }
            out += [".TP", head, Roff.escape(argument.abstract ?? "")]
        }
        return out
    }
}
