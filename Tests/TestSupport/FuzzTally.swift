/// What a control-socket fuzz run saw.
public struct FuzzTally: Sendable {
    public var sent = 0
    /// Replies judged valid for their message (errors and the odd valid call).
    public var replies = 0
    /// Connections the server closed instead of answering (allowed only for messages that are not JSON objects).
    public var closes = 0
    /// Interleaved GetInfo calls answered exactly.
    public var validCallsAnswered = 0
    /// What was wrong (the first few per worker), each with the message that caused it.
    public var problems: [String] = []

    public init() {}

    mutating func record(_ problem: String, message: [UInt8]) {
        if problems.count < 20 { problems.append("\(problem) (message: \(String(decoding: message.prefix(120), as: UTF8.self)))") }
    }

    static func + (lhs: FuzzTally, rhs: FuzzTally) -> FuzzTally {
        var sum = lhs
        sum.sent += rhs.sent
        sum.replies += rhs.replies
        sum.closes += rhs.closes
        sum.validCallsAnswered += rhs.validCallsAnswered
        sum.problems += rhs.problems
        return sum
    }
}
