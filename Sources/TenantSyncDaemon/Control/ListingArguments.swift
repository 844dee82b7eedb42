import TenantSyncCore

/// Checks the filter and paging arguments of the control socket's list calls.
///
/// A bad value is refused with `InvalidArgument` naming the argument and the values that
/// are accepted; nothing is read or changed.
enum ListingArguments {
    static func state(_ text: String?) throws -> AccountState? {
        guard let text else { return nil }
        guard let state = AccountState(rawValue: text) else {
            throw invalid("state", "Unknown account state '\(text.prefix(64))'; use one of: \(AccountState.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return state
    }

    static func service(_ text: String?) throws -> ServiceKind? {
        guard let text else { return nil }
        guard let service = ServiceKind(rawValue: text) else {
            throw invalid("service", "Unknown service '\(text.prefix(64))'; use one of: \(ServiceKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return service
    }

    /// An alert's state: `unacknowledged` or `acknowledged`; `any` for both.
    static func alertState(_ text: String?, all: Bool) throws -> AlertQuery.Acknowledgement {
        guard let text else { return all ? .any : .unacknowledged }
        guard let state = AlertQuery.Acknowledgement(rawValue: text) else {
            throw invalid("state", "Unknown alert state '\(text.prefix(64))'; use one of: \(AlertQuery.Acknowledgement.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return state
    }

    static func limit(_ value: Int?, default defaultValue: Int, maximum: Int) throws -> Int {
        guard let value else { return defaultValue }
        guard (1...maximum).contains(value) else {
            throw invalid("limit", "The limit must be between 1 and \(maximum); got \(value).")
        }
        return value
    }

    /// The id a `next` cursor stands for. Cursors are the decimal id of the last row of a page.
    static func cursor(_ text: String?) throws -> Int64? {
        guard let text else { return nil }
        guard let id = Int64(text), id >= 0 else {
            throw invalid("after", "The cursor is not one a previous page returned as 'next'; start again without it.")
        }
        return id
    }

    static func cursor(for id: Int64) -> String { String(id) }

    private static func invalid(_ argument: String, _ message: String) -> TenantSyncError {
        TenantSyncError(.invalidArgument, message, context: ["argument": argument])
    }
}
