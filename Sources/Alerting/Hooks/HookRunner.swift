import Foundation
import Logging
import Synchronization

/// Runs hook commands without a shell, feeding them input on stdin, with a timeout.
///
/// The hook runs in its own process group; on timeout the whole group is killed
/// (`SIGKILL`). Its stdin is one end of a socket pair written with `MSG_NOSIGNAL`,
/// so a hook that exits without reading cannot kill the daemon with `SIGPIPE`.
public struct HookRunner: Sendable {
    static let stderrTailLimit = 2048

    public init() {}

    /// Runs the command with `input` on stdin; returns when it exits with status 0, throws ``HookError`` otherwise.
    public func run(_ command: HookCommand, input: [UInt8]) async throws {
        guard let program = command.arguments.first, program.hasPrefix("/") else {
            throw HookError(hook: command.name, reason: .couldNotStart("the command must start with an absolute program path"), stderrTail: "")
        }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw HookError(hook: command.name, reason: .couldNotStart(String(cString: strerror(errno))), stderrTail: "")
        }
        let ours = pair[0]
        let childStdin = FileHandle(fileDescriptor: pair[1], closeOnDealloc: true)
        defer { close(ours) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = Array(command.arguments.dropFirst())
        process.standardInput = childStdin
        process.standardOutput = FileHandle.nullDevice
        let stderrPipe = Pipe()
        process.standardError = stderrPipe
        let tail = StderrTail(limit: Self.stderrTailLimit)
        stderrPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { tail.append(data) }
        }
        let exit = ProcessExit()
        process.terminationHandler = { process in
            exit.finish(status: process.terminationStatus, reason: process.terminationReason)
        }
        do {
            try process.run()
        } catch {
            stderrPipe.fileHandleForReading.readabilityHandler = nil
            throw HookError(hook: command.name, reason: .couldNotStart("\(error)"), stderrTail: "")
        }
        try? childStdin.close()
        try? stderrPipe.fileHandleForWriting.close()
        let pid = process.processIdentifier

        Self.writeAll(input, to: ours)
        shutdown(ours, Int32(SHUT_WR))

        let timedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await exit.wait(); return false }
            group.addTask {
                do { try await Task.sleep(for: command.timeout) } catch { return false }
                return true
            }
            let first = await group.next() ?? false
            if first {
                // The hook's own process group: its children die with it.
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
            }
            group.cancelAll()
            await group.waitForAll()
            return first
        }
        await exit.wait()
        stderrPipe.fileHandleForReading.readabilityHandler = nil
        tail.drain(stderrPipe.fileHandleForReading.fileDescriptor)

        let (status, reason) = exit.result!
        if timedOut {
            throw HookError(hook: command.name, reason: .timedOut(after: command.timeout), stderrTail: tail.text)
        }
        if reason == .uncaughtSignal {
            throw HookError(hook: command.name, reason: .signalled(signal: status), stderrTail: tail.text)
        }
        if status != 0 {
            throw HookError(hook: command.name, reason: .exited(status: status), stderrTail: tail.text)
        }
    }

    /// Writes until done or the hook closed its stdin (then the rest is dropped: the hook chose not to read).
    static func writeAll(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let sent = send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if sent < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += sent
            }
        }
    }
}

/// The last bytes of a hook's stderr.
final class StderrTail: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func append(_ data: Data) {
        bytes.withLock { bytes in
            bytes.append(contentsOf: data)
            if bytes.count > limit { bytes.removeFirst(bytes.count - limit) }
        }
    }

    /// Reads what is left without blocking: a grandchild may still hold the pipe open.
    func drain(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            append(Data(chunk[0..<count]))
        }
    }

    var text: String {
        String(decoding: bytes.withLock { $0 }, as: UTF8.self)
    }
}

/// A one-shot: the process's exit, awaited by any number of waiters.
final class ProcessExit: Sendable {
    private struct State {
        var result: (Int32, Process.TerminationReason)?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func finish(status: Int32, reason: Process.TerminationReason) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.result = (status, reason)
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    var result: (Int32, Process.TerminationReason)? { state.withLock { $0.result } }

    /// Waits for the exit; not cancellable, because a started process always ends (the runner kills it on timeout).
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.result != nil { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
