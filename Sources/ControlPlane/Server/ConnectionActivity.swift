import NIOCore
import Synchronization

/// Whether a connection is running a call, so idleness is counted only between
/// calls and a shutdown lets the running call finish.
final class ConnectionActivity: Sendable {
    private struct State {
        var callsInFlight = 0
        /// Messages decoded on the event loop but not yet picked up by the connection's task.
        var queued = 0
        var draining = false
    }

    private let state = Mutex(State())

    /// Marks a call as running; false once draining, when no new call may start.
    func begin() -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.queued = max(0, state.queued - 1)
            state.callsInFlight += 1
            return true
        }
    }

    func end() { state.withLock { $0.callsInFlight -= 1 } }

    /// A message was decoded; the connection is busy until its call begins and ends.
    ///
    /// Without this, a loaded machine can run the idle timer out between the read and the
    /// moment the connection's task picks the message up, and cut a call off before it starts.
    func messageArrived() { state.withLock { $0.queued += 1 } }

    var isIdle: Bool { state.withLock { $0.callsInFlight == 0 && $0.queued == 0 } }
    var isDraining: Bool { state.withLock { $0.draining } }

    /// Stops new calls; returns true when no call is running (the connection can close now).
    func drain() -> Bool {
        state.withLock { state in
            state.draining = true
            return state.callsInFlight == 0
        }
    }
}

/// Closes a connection that stayed silent for the idle timeout while no call was running.
/// Marks every decoded message as pending work for ``ConnectionActivity``, on the event loop.
final class MessageArrivalMarker: ChannelInboundHandler {
    typealias InboundIn = VarlinkFrame
    typealias InboundOut = VarlinkFrame

    private let activity: ConnectionActivity

    init(activity: ConnectionActivity) {
        self.activity = activity
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .message = unwrapInboundIn(data) { activity.messageArrived() }
        context.fireChannelRead(data)
    }
}

final class IdleConnectionCloser: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let activity: ConnectionActivity

    init(activity: ConnectionActivity) {
        self.activity = activity
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            if activity.isIdle { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
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
