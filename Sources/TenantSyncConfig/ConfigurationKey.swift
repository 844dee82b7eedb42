import Foundation

/// One entry of the configuration reference: a key (or, for an array of tables, the keys of
/// each entry), its default and what it means.
public struct ConfigurationKey: Sendable, Equatable {
    /// The TOML table as written in the file: `[daemon]`, or `[[hooks]]` for an array of tables.
    public var section: String
    /// The key; several for an array-of-tables entry documented as one row.
    public var names: [String]
    /// The default, Markdown inline.
    public var defaultValue: String
    /// What the key does, Markdown inline.
    public var meaning: String

    public init(_ section: String, _ names: [String], default defaultValue: String, meaning: String) {
        self.section = section
        self.names = names
        self.defaultValue = defaultValue
        self.meaning = meaning
    }

    /// The table's name without brackets: `daemon`, `hooks`.
    public var table: String { section.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) }
}
