import Foundation

/// JSON in the interface's own shape (snake_case keys, RFC 3339 times), for `--json` output.
public enum ControlJSON {
    /// Encodes a value as the interface would send it.
    public static func encode(_ value: some Encodable, pretty: Bool = true) throws -> String {
        let encoder = VarlinkJSON.makeEncoder()
        if pretty { encoder.outputFormatting.insert(.prettyPrinted) }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
