/// The idle timeout of one connection, run by the connection's own task group on an injected clock.
///
/// The read loop arms it each time it starts waiting for the client's next message;
/// a message arriving (or a call starting) disarms it in ``ConnectionActivity``. When a
/// wait's deadline passes and that wait is still armed, `onIdle` closes the connection.
/// A wait's deadline is fixed when it is armed, so a late timer task ends a connection
/// late, never early.
struct ConnectionIdleTimer: Sendable {
    /// Starts the idle period of wait `number` now.
    let arm: @Sendable (_ number: UInt64) -> Void
    /// The timer loop; returns after closing an idle connection, on `finish`, or on cancellation.
    let run: @Sendable () async -> Void
    let finish: @Sendable () -> Void

    /// Opens the server's stored clock, whose instant type the timer needs.
    init(clock: any Clock<Duration>, timeout: Duration, activity: ConnectionActivity, onIdle: @escaping @Sendable () -> Void) {
        self = Self.make(clock: clock, timeout: timeout, activity: activity, onIdle: onIdle)
    }

    private static func make(
        clock: some Clock<Duration>, timeout: Duration, activity: ConnectionActivity, onIdle: @escaping @Sendable () -> Void
    ) -> ConnectionIdleTimer {
        ConnectionIdleTimer(typed: clock, timeout: timeout, activity: activity, onIdle: onIdle)
    }

    private init<C: Clock<Duration>>(typed clock: C, timeout: Duration, activity: ConnectionActivity, onIdle: @escaping @Sendable () -> Void) {
        // Arming a wait ends every earlier one, so only the newest unread arm matters: the buffer stays one long
        // however many calls a client makes while the timer sleeps on an older deadline.
        let (waits, continuation) = AsyncStream.makeStream(of: (number: UInt64, deadline: C.Instant).self, bufferingPolicy: .bufferingNewest(1))
        arm = { number in continuation.yield((number, clock.now.advanced(by: timeout))) }
        run = {
            for await wait in waits {
                do {
                    try await clock.sleep(until: wait.deadline, tolerance: nil)
                } catch {
                    return
                }
                if activity.idleTimeoutExpired(wait: wait.number) {
                    onIdle()
                    return
                }
            }
        }
        finish = { continuation.finish() }
    }
}
