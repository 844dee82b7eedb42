import Credentials
import Foundation
import Logging
import Migrations
import NIOSSL
import PostgresNIO
import PostgreSQLMigrations
import TenantSyncCore

/// The store several daemons share: one PostgreSQL database, reached through a postgres-nio connection pool.
///
/// It implements the same protocols as the SQLite store; secrets are sealed with the same ``SecretSealer`` and the
/// same places before they reach the database. Every value goes to the server as a bound parameter
/// (`PostgresQuery` interpolation binds), never spliced into the SQL text.
public final class PostgreSQLStore: Sendable {
    let settings: PostgreSQLStoreSettings
    let sealer: SecretSealer
    let logger: Logger
    let client: PostgresClient
    let state = PostgreSQLStoreState()

    /// The migrations ``prepare()`` applies: the embedded ones (tests add one to watch what a refused start leaves).
    let migrations: [SchemaMigration]

    public convenience init(settings: PostgreSQLStoreSettings, sealer: SecretSealer, logger: Logger) {
        self.init(settings: settings, sealer: sealer, logger: logger, migrations: PostgreSQLSchemaMigrations.all)
    }

    init(settings: PostgreSQLStoreSettings, sealer: SecretSealer, logger: Logger, migrations: [SchemaMigration]) {
        self.migrations = migrations
        self.settings = settings
        self.sealer = sealer
        self.logger = logger
        client = PostgresClient(configuration: settings.clientConfiguration(), backgroundLogger: logger)
    }

    /// Runs the connection pool until the calling task is cancelled (postgres-nio's `PostgresClient.run()`).
    public func run() async {
        let (closed, closing) = AsyncStream.makeStream(of: Void.self)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [client] in await client.run() }
            group.addTask { await self.listenForOutbox() }
            state.poolStarted { closing.finish() }
            // Until close() or the caller's cancellation; then the pool's task is cancelled, which closes it.
            for await _ in closed {}
            group.cancelAll()
        }
    }

    /// Connects (within the settings' connect timeout), applies the migrations under an advisory lock and checks
    /// the sealing key against the database's check value before anything else is written.
    ///
    /// - Throws: `TenantSyncError` `storeUnavailable` (context `reason`: `unreachable`, `migration`), `schemaTooNew`,
    ///   or `secretKeyUnavailable` with reason `key-mismatch` when this key does not open the database's check value.
    public func prepare() async throws {
        let connection = try await connectOnce()
        do {
            try await PostgreSQLMigrator(
                connection: connection, sealer: sealer, settings: settings, logger: logger, migrations: migrations
            ).migrateAndCheckKey()
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    /// One connection of its own, opened within the connect timeout: its failure names the cause (refused, no
    /// route, authentication, TLS) where the pool would only keep retrying.
    func connectOnce() async throws -> PostgresConnection {
        let settings = settings
        let configuration: PostgresConnection.Configuration
        do {
            configuration = try settings.connectionConfiguration()
        } catch {
            throw Self.unreachable(settings, cause: PostgreSQLErrorText.describe(error))
        }
        let logger = logger
        let limit = settings.connectTimeout
        return try await withThrowingTaskGroup(of: PostgresConnection?.self) { group in
            group.addTask {
                do {
                    return try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                } catch {
                    throw Self.connectFailure(settings, error)
                }
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let connection = try await group.next() ?? nil else {
                throw Self.unreachable(settings, cause: "no answer within \(limit)")
            }
            return connection
        }
    }

    /// Runs `body` on one pooled connection, outside a transaction (a single read needs none).
    func read<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try requireOpen()
        do {
            return try await client.withConnection { connection in try await body(connection) }
        } catch {
            throw failure(error)
        }
    }

    /// Runs `body` in one transaction on one pooled connection: committed when it returns, rolled back when it
    /// throws (the error is rethrown as it was).
    @discardableResult
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try requireOpen()
        let logger = logger
        do {
            return try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    // Inside `fenced(by:)`: every transaction of the task checks its lease first.
                    if let lease = Self.taskFence { try await Self.requireLease(connection, lease, logger: logger) }
                    let value = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return value
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        } catch {
            throw failure(error)
        }
    }

    /// A postgres-nio error as the one-line `TenantSyncError` an operator reads (postgres-nio's own description says
    /// nothing, on purpose); the store's own errors pass unchanged.
    private func failure(_ error: any Error) -> any Error {
        if error is TenantSyncError || error is CancellationError { return error }
        var context = ["reason": "statement-failed", "store.endpoint": settings.endpoint]
        if let state = PostgreSQLErrorText.sqlState(error) {
            context["sqlstate"] = state
        } else if let error = error as? PSQLError, error.serverInfo == nil {
            // No answer from the server: the connection failed or was lost.
            context["reason"] = "unreachable"
        }
        return TenantSyncError(
            .storeUnavailable, "PostgreSQL at \(settings.endpoint) failed: \(PostgreSQLErrorText.describe(error)).", context: context
        )
    }

    /// A transaction whose commit returns only once it is durable (`synchronous_commit` on for it, whatever the
    /// server's or the database's default): token sets are stored this way, so a rotated refresh token is never used
    /// before it would survive a crash of the server.
    func durableTransaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await transaction { connection in
            try await connection.query("SET LOCAL synchronous_commit TO on", logger: logger)
            return try await body(connection)
        }
    }

    private func requireOpen() throws {
        guard !state.isClosed else {
            throw TenantSyncError(.storeUnavailable, "The PostgreSQL store was closed.", context: ["reason": "closed"])
        }
    }

    /// The first row's single column, or `nil` without a row.
    static func one<Value: PostgresDecodable & Sendable>(_ rows: PostgresRowSequence, _ type: Value.Type) async throws -> Value? {
        for try await value in rows.decode(Value.self) { return value }
        return nil
    }

    /// Why a connection could not be made: a login the server refused (SQLSTATE class 28: a wrong password, a user or
    /// address its `pg_hba.conf` does not admit) is reason `refused`, which waiting and restarting do not mend; any other
    /// failure is reason `unreachable`.
    static func connectFailure(_ settings: PostgreSQLStoreSettings, _ error: any Error) -> TenantSyncError {
        let cause = PostgreSQLErrorText.describe(error)
        guard let state = PostgreSQLErrorText.sqlState(error), state.hasPrefix("28") else { return unreachable(settings, cause: cause) }
        return TenantSyncError(
            .storeUnavailable,
            "PostgreSQL at \(settings.endpoint) refused the login of user \(settings.user) to database \(settings.database): \(cause). "
                + "Check the password ([database] password_file, or the database-password credential) and the server's pg_hba.conf.",
            context: ["reason": "refused", "store.endpoint": settings.endpoint, "sqlstate": state]
        )
    }

    static func unreachable(_ settings: PostgreSQLStoreSettings, cause: String) -> TenantSyncError {
        TenantSyncError(
            .storeUnavailable,
            "Cannot connect to PostgreSQL at \(settings.endpoint) (database \(settings.database), user \(settings.user)): \(cause).",
            context: ["reason": "unreachable", "store.endpoint": settings.endpoint]
        )
    }
}
