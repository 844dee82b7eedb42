/// The command tree an ArgumentParser tool prints with `--experimental-dump-help`
/// (the fields of ArgumentParserToolInfo the man pages use).
///
/// ArgumentParser's `generate-manual` plugin renders the same JSON; it is not available
/// offline, so ``ManPage`` does it here.
public struct ToolInfo: Decodable, Sendable {
    public struct Command: Decodable, Sendable {
        public var commandName: String
        public var abstract: String?
        public var discussion: String?
        public var shouldDisplay: Bool?
        public var arguments: [Argument]?
        public var subcommands: [Command]?
    }

    public struct Argument: Decodable, Sendable {
        public struct Name: Decodable, Sendable {
            public var kind: String
            public var name: String
        }

        public var kind: String
        public var names: [Name]?
        public var valueName: String?
        public var abstract: String?
        public var isOptional: Bool?
        public var isRepeating: Bool?
        public var shouldDisplay: Bool?
    }

    public var command: Command
}
