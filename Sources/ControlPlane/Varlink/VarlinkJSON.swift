import Foundation

/// The JSON coders every Varlink message of tenantsync goes through.
///
/// Swift names (`tenantID`, `verificationURI`) map to the interface's
/// snake_case (`tenant_id`, `verification_uri`) in both directions with the
/// same rule, so a field encodes and decodes under one name. Times are RFC 3339.
enum VarlinkJSON {
    /// Acronyms written in capitals in Swift names.
    static let acronyms: Set<String> = ["id", "url", "uri", "xml"]

    /// Deepest nesting a message may have; deeper input is refused before parsing.
    static let maximumDepth = 64

    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .custom { path in
            SnakeKey(stringValue: snakeCase(path.last!.stringValue))
        }
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in
            SnakeKey(stringValue: camelCase(path.last!.stringValue))
        }
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// `verificationURI` → `verification_uri`, `tenantID` → `tenant_id`.
    static func snakeCase(_ name: String) -> String {
        var words: [String] = []
        var current = ""
        let characters = Array(name)
        for (index, character) in characters.enumerated() {
            if character.isUppercase, !current.isEmpty {
                let previous = characters[index - 1]
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                // A new word starts at lower→Upper, or at the last capital of a run followed by lower case.
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && next?.isLowercase == true) {
                    words.append(current)
                    current = ""
                }
            }
            current.append(character)
        }
        if !current.isEmpty { words.append(current) }
        return words.map { $0.lowercased() }.joined(separator: "_")
    }

    /// `verification_uri` → `verificationURI`, `tenant_id` → `tenantID`.
    static func camelCase(_ name: String) -> String {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count > 1 else { return name }
        var result = String(parts[0])
        for part in parts.dropFirst() {
            let word = String(part)
            if acronyms.contains(word) {
                result += word.uppercased()
            } else {
                result += word.prefix(1).uppercased() + word.dropFirst()
            }
        }
        return result
    }

    /// Whether the text nests arrays and objects no deeper than `maximumDepth`.
    ///
    /// Checked before parsing so that a hostile message cannot exhaust the stack
    /// of a recursive parser.
    static func nestingIsShallow(_ bytes: some Collection<UInt8>) -> Bool {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maximumDepth { return false }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
            default: break
            }
        }
        return true
    }
}

/// A coding key built from a converted name.
struct SnakeKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}
