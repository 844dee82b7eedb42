import Logging

/// Flattens swift-log metadata into ordered `key=value` pairs, hiding anything that looks secret.
///
/// Nested dictionaries become dotted keys (`tenant` → `tenant.id`), arrays are
/// comma-joined. `Secret` values already print `<redacted>`; keys named like a
/// secret (`password`, `secret`, `access_token`, …) are redacted too, as a second
/// line of defence against a clear value passed as a plain string.
public enum LogMetadataFlattener {
    static let secretKeyParts: Set<String> = [
        "password", "secret", "client_secret", "access_token", "refresh_token", "token_value", "authorization", "cookie",
    ]

    /// The pairs, sorted by key for a stable order.
    public static func flatten(_ metadata: Logger.Metadata) -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        for (key, value) in metadata { append(key: key, value: value, into: &result) }
        return result.sorted { $0.key < $1.key }
    }

    /// Whether a key names a secret, judged by its last dotted component.
    public static func isSecretKey(_ key: String) -> Bool {
        let last = key.split(separator: ".").last.map { $0.lowercased() } ?? key.lowercased()
        return secretKeyParts.contains(last.replacingDashes())
    }

    private static func append(key: String, value: Logger.MetadataValue, into result: inout [(key: String, value: String)]) {
        if isSecretKey(key) {
            result.append((key, "<redacted>"))
            return
        }
        switch value {
        case .string(let text): result.append((key, text))
        case .stringConvertible(let convertible): result.append((key, convertible.description))
        case .array(let values): result.append((key, values.map(\.description).joined(separator: ",")))
        case .dictionary(let nested):
            for (subKey, subValue) in nested { append(key: key + "." + subKey, value: subValue, into: &result) }
        }
    }
}

extension String {
    fileprivate func replacingDashes() -> String {
        String(map { $0 == "-" ? "_" : $0 })
    }
}
