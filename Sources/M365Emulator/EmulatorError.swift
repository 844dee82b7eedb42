/// An admin operation that cannot be done, with the HTTP status the admin API answers.
public struct EmulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable code: `bad_request`, `not_found` or `conflict`.
    public var code: String
    /// What went wrong, for people.
    public var message: String

    public var description: String { "\(code): \(message)" }

    static func badRequest(_ message: String) -> EmulatorError { .init(code: "bad_request", message: message) }
    static func notFound(_ message: String) -> EmulatorError { .init(code: "not_found", message: message) }
    static func conflict(_ message: String) -> EmulatorError { .init(code: "conflict", message: message) }

    var httpStatus: Int {
        switch code {
        case "not_found": 404
        case "conflict": 409
        default: 400
        }
    }
}
