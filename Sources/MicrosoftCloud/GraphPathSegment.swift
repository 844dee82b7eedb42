import Foundation
import TenantSyncCore

/// Checks and percent-encodes the ids and names tenantsync puts into Graph URL paths.
///
/// A group id or user key reaches a path from an operator (`tenantsyncctl targets add`) or from
/// Graph's own answers; unchecked, a value such as `x/../../users` or `a?$select=…` would change
/// which resource the daemon reads with the tenant's token. Group ids must be GUIDs; user keys
/// GUIDs or user principal names (`local@domain`, the characters Entra ID allows).
public enum GraphPathSegment {
    /// A group id as a path segment.
    ///
    /// - Throws: `TenantSyncError` (`invalidArgument`) when `id` is not a GUID.
    public static func groupID(_ id: String) throws -> String {
        guard isGUID(id) else {
            throw TenantSyncError(
                .invalidArgument, "\(quoted(id)) is not a group id; a group id is a GUID such as 0f3c1d2e-4b5a-6978-8a9b-0c1d2e3f4a5b.",
                context: ["group.id": quoted(id)]
            )
        }
        return id
    }

    /// A user id (GUID) or user principal name as a path segment, percent-encoded.
    ///
    /// - Throws: `TenantSyncError` (`invalidArgument`) when `key` is neither.
    public static func userKey(_ key: String) throws -> String {
        if isGUID(key) { return key }
        guard isUserPrincipalName(key) else {
            throw TenantSyncError(
                .invalidArgument, "\(quoted(key)) is not a user principal name (name@domain) or a user id (GUID).",
                context: ["user.upn": quoted(key)]
            )
        }
        return key.addingPercentEncoding(withAllowedCharacters: segmentAllowed) ?? key
    }

    /// `8-4-4-4-12` hexadecimal digits.
    public static func isGUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
                else { return false }
            }
        }
        return true
    }

    /// `local@domain`: a local part of the characters Entra ID allows (letters, digits and
    /// `' . - _ ! # ^ ~`, `#` for guests' `#EXT#`) and a domain of letters, digits, dots and hyphens.
    public static func isUserPrincipalName(_ text: String) -> Bool {
        guard text.utf8.count <= 256 else { return false }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        let local = parts[0].unicodeScalars.allSatisfy { $0.isASCII && (localAllowed.contains($0)) }
        let domainParts = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        let domain = domainParts.count >= 2 && domainParts.allSatisfy { label in
            !label.isEmpty && label.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }
        }
        return local && domain
    }

    private static let localAllowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "'.-_!#^~"))
    /// Path characters minus `/` (and `?`, `#`, `%`, which `urlPathAllowed` already excludes).
    private static let segmentAllowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))

    /// The value for an error message: quoted, control characters escaped, at most 120 characters.
    private static func quoted(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(120) {
            out += scalar.properties.generalCategory == .control ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }
        return "\"\(out)\""
    }
}
