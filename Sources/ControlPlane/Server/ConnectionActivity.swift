import NIOCore
import Synchronization

/// What one connection is doing: waiting for the client's next message, holding a
/// message not yet taken, or running a call.
///
/// The idle timer consults it, so a connection is idle only while its task waits for
/// input and nothing arrived: never before the task starts reading, never while a
/// decoded message waits to be picked up, never during a call.
final class ConnectionActivity: Sendable {
    private struct State {
        var callsInFlight = 0
        /// Messages decoded on the event loop but not yet taken by the connection's task.
        var queued = 0
        var draining = false
        /// The wait for input the idle timer may end, while the task waits and nothing arrived.
        var armedWait: UInt64?
        var waits: UInt64 = 0
    }

    private let state = Mutex(State())

    /// The connection's task starts waiting for the client's next message; returns the wait's number for the idle timer.
    func awaitingMessage() -> UInt64 {
        state.withLock { state in
            state.waits += 1
            state.armedWait = state.waits
            return state.waits
        }
    }

    /// A message was decoded (on the event loop): the client is not idle, whatever the task is doing.
    func messageArrived() {
        state.withLock { state in
            state.queued += 1
            state.armedWait = nil
        }
    }

    /// Whether the idle timeout of wait `number` ends the connection: still that wait, nothing arrived, no call running.
    func idleTimeoutExpired(wait number: UInt64) -> Bool {
        state.withLock { state in
            state.armedWait == number && state.queued == 0 && state.callsInFlight == 0 && !state.draining
        }
    }

    /// Marks a call as running; false once draining, when no new call may start.
    func begin() -> Bool {
        state.withLock { state in
            state.queued = max(0, state.queued - 1)
            state.armedWait = nil
            guard !state.draining else { return false }
            state.callsInFlight += 1
            return true
        }
    }

    func end() { state.withLock { $0.callsInFlight -= 1 } }

    var isDraining: Bool { state.withLock { $0.draining } }

    /// Stops new calls; returns true when no call is running (the connection can close now).
    func drain() -> Bool {
        state.withLock { state in
            state.draining = true
            return state.callsInFlight == 0
        }
    }
}

/// Marks every decoded message as arrived for ``ConnectionActivity``, on the event loop.
final class MessageArrivalMarker: ChannelInboundHandler {
    typealias InboundIn = VarlinkFrame
    typealias InboundOut = VarlinkFrame

    private let activity: ConnectionActivity

    init(activity: ConnectionActivity) {
        self.activity = activity
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        activity.messageArrived()
        context.fireChannelRead(data)
    }
}

/// Counts open connections against the limit.
final class ConnectionCounter: Sendable {
    private let open = Mutex(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Takes a slot; false when the limit is reached.
    func acquire() -> Bool {
        open.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func release() { open.withLock { $0 -= 1 } }
    var current: Int { open.withLock { $0 } }
}
