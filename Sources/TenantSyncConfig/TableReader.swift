import Foundation
import TOMLKit
import TenantSyncCore

/// Typed, located reads of TOML values; every failure names `file:line`.
struct TableReader {
    let file: String
    let locator: TOMLKeyLocator

    func error(_ path: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: locator.line(of: path), message: message)
    }

    func allowOnly(_ keys: Set<String>, in table: TOMLTable, path: String) throws(ConfigurationError) {
        for key in table.keys.sorted() where !keys.contains(key) {
            let full = path.isEmpty ? key : "\(path).\(key)"
            let place = path.isEmpty ? "at the top level" : "in [\(path.split(separator: ".").first!)]"
            throw error(full, "unknown key \"\(key)\" \(place); known keys: \(keys.sorted().joined(separator: ", "))")
        }
    }

    private func typeError(_ path: String, expected: String, got value: any TOMLValueConvertible) -> ConfigurationError {
        error(path, "\(path) must be \(expected), not \(IndefiniteArticle.prefixed(value.type.rawValue))")
    }

    func table(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> TOMLTable? {
        guard let value = table[key] else { return nil }
        guard let result = value.table else { throw typeError(path, expected: "a table ([\(key)])", got: value) }
        return result
    }

    func string(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> String? {
        guard let value = table[key] else { return nil }
        guard let result = value.string else { throw typeError(path, expected: "a string", got: value) }
        return result
    }

    func bool(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let result = value.bool else { throw typeError(path, expected: "true or false", got: value) }
        return result
    }

    func int(_ table: TOMLTable, _ key: String, path: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value = table[key] else { return nil }
        guard value.type == .int, let result = value.int else { throw typeError(path, expected: "an integer", got: value) }
        guard range.contains(result) else {
            throw error(path, "\(path) must be between \(range.lowerBound) and \(range.upperBound), not \(result)")
        }
        return result
    }

    func number(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> Double? {
        guard let value = table[key] else { return nil }
        if value.type == .double, let result = value.double { return result }
        if value.type == .int, let result = value.int { return Double(result) }
        throw typeError(path, expected: "a number", got: value)
    }

    func strings(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> [String]? {
        guard let value = table[key] else { return nil }
        guard let array = value.array else { throw typeError(path, expected: "an array of strings", got: value) }
        var result: [String] = []
        for element in array {
            guard let text = element.string else { throw typeError(path, expected: "an array of strings", got: element) }
            result.append(text)
        }
        return result
    }

    func duration(_ table: TOMLTable, _ key: String, path: String, minimum: Duration) throws(ConfigurationError) -> Duration? {
        guard let text = try string(table, key, path: path) else { return nil }
        guard let result = Duration(text: text) else {
            throw error(path, "\(path) = \"\(text)\" is not a duration; write it like \"90s\", \"10m\", \"2h\" or \"1h30m\"")
        }
        guard result >= minimum else { throw error(path, "\(path) must be at least \(minimum.shortText)") }
        return result
    }

    func choice<T: RawRepresentable & CaseIterable>(_ table: TOMLTable, _ key: String, path: String, _: T.Type) throws(ConfigurationError) -> T?
    where T.RawValue == String {
        guard let text = try string(table, key, path: path) else { return nil }
        guard let result = T(rawValue: text) else {
            throw error(path, "\(path) = \"\(text)\" is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return result
    }

    /// A calendar date, as a TOML local date (`2027-06-30`) or the same text quoted; the start of that day, UTC.
    func date(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> Date? {
        guard let value = table[key] else { return nil }
        var parts: (Int, Int, Int)?
        if value.type == .date, let date = value.date {
            parts = (date.year, date.month, date.day)
        } else if let text = value.string {
            let fields = text.split(separator: "-", omittingEmptySubsequences: false)
            if fields.count == 3, fields[0].count == 4, fields[1].count == 2, fields[2].count == 2,
               let year = Int(fields[0]), let month = Int(fields[1]), let day = Int(fields[2]) {
                parts = (year, month, day)
            }
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let (year, month, day) = parts,
              let result = calendar.date(from: DateComponents(year: year, month: month, day: day)),
              calendar.component(.day, from: result) == day
        else {
            throw error(path, "\(path) must be a date written like 2027-06-30")
        }
        return result
    }

    func path(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> String? {
        guard let text = try string(table, key, path: path) else { return nil }
        guard !text.isEmpty else { throw error(path, "\(path) must not be empty") }
        return text
    }

    func address(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> String? {
        guard let text = try string(table, key, path: path) else { return nil }
        guard Self.isMailAddress(text) else { throw error(path, "\(path) = \"\(text)\" is not an e-mail address") }
        return text
    }

    func addresses(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> [String]? {
        guard let list = try strings(table, key, path: path) else { return nil }
        for text in list where !Self.isMailAddress(text) {
            throw error(path, "\(path) lists \"\(text)\", which is not an e-mail address")
        }
        return list
    }

    /// An endpoint URL: `https://`, or `http://` for loopback hosts only (the emulator).
    func endpoint(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> String? {
        guard let text = try string(table, key, path: path) else { return nil }
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw error(path, "\(path) = \"\(text)\" is not a URL")
        }
        switch scheme {
        case "https":
            return text
        case "http" where Self.isLoopback(host):
            return text
        case "http":
            throw error(path, "\(path) must use https://; http:// is accepted only for loopback hosts (the local emulator)")
        default:
            throw error(path, "\(path) must be an https:// URL")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" { return true }
        let octets = bare.split(separator: ".")
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    static func isMailAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && !text.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," })
    }
}
