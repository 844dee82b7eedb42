import Foundation
import TenantSyncCore

/// The one place alert facts become the `alerts.details_json` column and back.
extension AlertFacts {
    /// The facts as the stored JSON object (sorted keys, stable text).
    var storedJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail; an empty object is still a readable row.
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads a stored column; a row written by an older version (other keys) or an unreadable one yields what it can.
    init(storedJSON: String?) {
        guard let storedJSON, let facts = try? JSONDecoder().decode(AlertFacts.self, from: Data(storedJSON.utf8)) else {
            self.init()
            return
        }
        self = facts
    }
}
