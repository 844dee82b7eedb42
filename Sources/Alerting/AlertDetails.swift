import Foundation
import TenantSyncCore

/// Reads and writes the structured facts of an alert (`Alert.detailsJSON`).
///
/// The details are one flat JSON object with dotted keys, the same keys the
/// daemon uses as log metadata, so the journal channel maps them to the same
/// fields (`tenant.domain` → `TENANT_DOMAIN`, `aadsts.code` → `AADSTS_CODE`).
/// Keys the channels understand:
/// `tenant.domain`, `account.service`, `account.id`, `grant.name`, `oauth.error`,
/// `aadsts.code`, `trace.id`, `correlation.id`, `sync.run`, `error`.
public enum AlertDetails {
    /// Encodes string facts as the details JSON (sorted keys, stable output).
    public static func json(_ facts: [String: String]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: facts, options: [.sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The facts as strings, sorted by key; numbers and booleans are rendered as text, nested values as JSON.
    public static func facts(_ detailsJSON: String) -> [(key: String, value: String)] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(detailsJSON.utf8)) as? [String: Any] else { return [] }
        return object.compactMap { key, value -> (key: String, value: String)? in
            switch value {
            case let text as String: return (key, text)
            case is NSNull: return nil
            case let number as NSNumber: return (key, number.stringValue)
            default:
                guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return nil }
                return (key, String(decoding: data, as: UTF8.self))
            }
        }.sorted { $0.key < $1.key }
    }

    /// One fact by key.
    public static func fact(_ key: String, in detailsJSON: String) -> String? {
        facts(detailsJSON).first { $0.key == key }?.value
    }
}
