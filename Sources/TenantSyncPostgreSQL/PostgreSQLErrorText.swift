import NIOCore
import PostgresNIO

/// One line an operator can act on, from an error postgres-nio threw.
///
/// `PSQLError`'s own description hides everything (it could carry bound values); this names only the server's
/// message and SQLSTATE or the connection's cause, never a bound value or the password.
enum PostgreSQLErrorText {
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return oneLine(message + state)
            }
            if let underlying = error.underlying { return oneLine("\(error.code): \(describe(underlying))") }
            return "\(error.code)"
        }
        if let error = error as? PostgresTransactionError {
            return describe(error.closureError ?? error.commitError ?? error.beginError ?? error.rollbackError ?? error)
        }
        if let error = error as? IOError { return oneLine(error.description) }
        return oneLine(String(describing: error))
    }

    /// The SQLSTATE of a server error, if it is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    private static func oneLine(_ text: String) -> String {
        String(text.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(300))
    }
}
