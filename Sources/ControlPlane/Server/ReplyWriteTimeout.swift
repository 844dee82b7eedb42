/// The bound on writing one reply: a client that stops reading (a `--wait` whose terminal was suspended, a
/// script that never reads) would otherwise hold its call, and whatever the call holds, forever once the
/// socket's buffers are full.
struct ReplyWriteTimeout: Sendable {
    /// A reply was not taken by the client within the bound; the connection was closed.
    struct Expired: Error, CustomStringConvertible {
        var after: Duration
        var description: String { "the client read no reply for \(after); connection closed" }
    }

    let clock: any Clock<Duration>
    let duration: Duration
    /// Closes the connection, which also ends the pending write.
    let onExpiry: @Sendable () -> Void

    /// Runs `write`; if it has not finished after `duration` on `clock`, closes the connection and throws ``Expired``.
    func bound(_ write: @escaping @Sendable () async throws -> Void) async throws {
        let clock = self.clock
        let duration = self.duration
        let finishedFirst = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await write()
                return true
            }
            group.addTask {
                try await Self.sleep(on: clock, for: duration)
                return false
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { return true }
            if !first { onExpiry() }
            return first
        }
        if !finishedFirst { throw Expired(after: duration) }
    }

    /// Opens the stored clock, whose instant type the sleep needs.
    private static func sleep(on clock: some Clock<Duration>, for duration: Duration) async throws {
        try await clock.sleep(for: duration)
    }
}
