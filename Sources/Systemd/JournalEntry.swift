import TenantSyncCore
/// One structured journal entry: the message, its priority and id, the code location and custom fields.
public struct JournalEntry: Sendable, Equatable {
    public var message: String
    public var priority: JournalPriority
    public var messageID: MessageID?
    public var syslogIdentifier: String?
    public var codeFile: String?
    public var codeLine: UInt?
    public var codeFunction: String?
    /// Custom fields in order; names must be valid journal field names (see ``JournalFieldName``).
    public var fields: [(name: String, value: String)]

    public init(
        message: String, priority: JournalPriority = .info, messageID: MessageID? = nil, syslogIdentifier: String? = nil,
        codeFile: String? = nil, codeLine: UInt? = nil, codeFunction: String? = nil, fields: [(name: String, value: String)] = []
    ) {
        self.message = message
        self.priority = priority
        self.messageID = messageID
        self.syslogIdentifier = syslogIdentifier
        self.codeFile = codeFile
        self.codeLine = codeLine
        self.codeFunction = codeFunction
        self.fields = fields
    }

    /// Every `NAME=value` assignment the entry sends, standard fields first.
    public var assignments: [(name: String, value: String)] {
        var result: [(name: String, value: String)] = [("MESSAGE", message), ("PRIORITY", String(priority.rawValue))]
        if let messageID { result.append(("MESSAGE_ID", messageID.rawValue)) }
        if let syslogIdentifier { result.append(("SYSLOG_IDENTIFIER", syslogIdentifier)) }
        if let codeFile { result.append(("CODE_FILE", codeFile)) }
        if let codeLine { result.append(("CODE_LINE", String(codeLine))) }
        if let codeFunction { result.append(("CODE_FUNC", codeFunction)) }
        result.append(contentsOf: fields)
        return result
    }

    public static func == (lhs: JournalEntry, rhs: JournalEntry) -> Bool {
        lhs.assignments.elementsEqual(rhs.assignments) { $0.name == $1.name && $0.value == $1.value }
    }
}
