import Foundation

/// The one place alert facts become the stores' `alerts.details_json` column and back (both stores read it).
extension AlertFacts {
    /// The facts as the stored JSON object (sorted keys, stable text).
    public var storedJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail; an empty object is still a readable row.
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads a stored column; a row written by an older version (other keys) or an unreadable one yields what it can.
    public init(storedJSON: String?) {
        guard let storedJSON, let facts = try? JSONDecoder().decode(AlertFacts.self, from: Data(storedJSON.utf8)) else {
            self.init()
            return
        }
        self = facts
    }
}
