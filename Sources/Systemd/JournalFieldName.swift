/// How swift-log metadata keys become journal field names.
///
/// The rule: a few well-known keys get the short names operators filter on
/// (`journalctl TENANT=… SERVICE=…`), every other dotted key is upper-cased with
/// dots and dashes turned into underscores (`trace.id` → `TRACE_ID`). Names the
/// journal reserves for itself get a `META_` prefix so metadata can never
/// overwrite `MESSAGE`, `PRIORITY` or the code location.
public enum JournalFieldName {
    /// Well-known metadata keys and their journal fields.
    public static let wellKnown: [String: String] = [
        "tenant.id": "TENANT",
        "tenant": "TENANT",
        "account.service": "SERVICE",
        "service": "SERVICE",
        "account.id": "ACCOUNT_ID",
        "grant.name": "GRANT",
        "grant": "GRANT",
        "sync.run": "SYNC_RUN",
        "aadsts.code": "AADSTS_CODE",
        "message.id": "MESSAGE_ID",
    ]

    /// Fields the writer sets itself; metadata mapping to one of them is prefixed with `META_`.
    public static let reserved: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "SYSLOG_FACILITY", "SYSLOG_PID", "SYSLOG_TIMESTAMP",
        "CODE_FILE", "CODE_LINE", "CODE_FUNC", "MESSAGE_ID", "ERRNO", "INVOCATION_ID", "USER_INVOCATION_ID",
    ]

    /// The journal field for a metadata key; `message.id` maps to `MESSAGE_ID`.
    public static func forMetadataKey(_ key: String) -> String {
        if let known = wellKnown[key] { return known }
        let name = sanitize(key)
        return reserved.contains(name) ? "META_" + name : name
    }

    /// Upper-cases and keeps only `A-Z`, `0-9`, `_`; the journal rejects anything else.
    ///
    /// A name must start with a letter (a leading `_` marks trusted fields) and is at most 64 bytes.
    public static func sanitize(_ raw: String) -> String {
        var bytes: [UInt8] = raw.uppercased().utf8.map { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"): byte
            default: UInt8(ascii: "_")
            }
        }
        if bytes.first.map({ !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) ?? true {
            bytes.insert(contentsOf: Array("F_".utf8), at: 0)
        }
        return String(decoding: bytes.prefix(64), as: UTF8.self)
    }
}
