import Foundation
import Logging
import Synchronization

/// Runs hook commands without a shell, feeding them input on stdin, with a timeout.
///
/// The hook runs in its own process group; on timeout the whole group is killed
/// (`SIGKILL`). Its stdin is one end of a socket pair written with `MSG_NOSIGNAL`,
/// so a hook that exits without reading cannot kill the daemon with `SIGPIPE`.
/// It gets a minimal environment (``HookEnvironment``), never the daemon's.
///
/// Spawned with `posix_spawn` and watched by one blocking thread (`poll` on its stdin and stderr,
/// `waitpid` on it), not with Foundation's `Process` and `FileHandle.readabilityHandler`:
/// those register libdispatch sources on descriptors that are closed while the source is
/// being torn down, and the daemon crashed once in libdispatch's event loop
/// (`_dispatch_event_loop_drain`, bad pointer) while alert hooks were running.
/// The alert is written to stdin by that thread too, without blocking: a hook that never reads
/// its stdin holds no cooperative thread, and its timeout covers the write.
public struct HookRunner: Sendable {
    static let stderrTailLimit = 2048

    /// The daemon's environment, from which only `PATH` and `LANG` are passed on.
    private let daemonEnvironment: [String: String]
    /// The clock a hook's timeout runs on (a manual clock in tests).
    private let clock: any Clock<Duration>

    public init(daemonEnvironment: [String: String] = ProcessInfo.processInfo.environment, clock: any Clock<Duration> = ContinuousClock()) {
        self.daemonEnvironment = daemonEnvironment
        self.clock = clock
    }

    /// Runs the command with `input` on stdin; returns when it exits with status 0, throws ``HookError`` otherwise.
    ///
    /// - Parameter variables: `TENANTSYNC_*` variables for the hook's environment; other names are dropped.
    public func run(_ command: HookCommand, input: [UInt8], variables: [String: String] = [:]) async throws {
        guard let program = command.arguments.first, program.hasPrefix("/") else {
            throw HookError(hook: command.name, reason: .couldNotStart("the command must start with an absolute program path"), stderrTail: "")
        }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw HookError(hook: command.name, reason: .couldNotStart(String(cString: strerror(errno))), stderrTail: "")
        }
        // stderr through a socket pair too: created close-on-exec atomically, so no other hook spawned meanwhile
        // inherits it (and holds off its EOF).
        var stderrPipe: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &stderrPipe) == 0 else {
            let reason = String(cString: strerror(errno))
            close(pair[0])
            close(pair[1])
            throw HookError(hook: command.name, reason: .couldNotStart(reason), stderrTail: "")
        }
        let ours = pair[0]
        let environment = HookEnvironment(daemon: daemonEnvironment, variables: variables)
        let spawned = Self.spawn(command.arguments, environment: environment.entries, stdin: pair[1], stderr: stderrPipe[1])
        // The child holds its own copies now (or never started): the parent's ends go, so EOF arrives when it exits.
        close(pair[1])
        close(stderrPipe[1])
        let pid: pid_t
        switch spawned {
        case .success(let child):
            pid = child
        case .failure(let failure):
            close(ours)
            close(stderrPipe[0])
            throw HookError(hook: command.name, reason: .couldNotStart(failure.reason), stderrTail: "")
        }

        let tail = StderrTail(limit: Self.stderrTailLimit)
        let exit = ProcessExit()
        let stderrRead = stderrPipe[0]
        // The watching thread owns both descriptors from here on and closes them when the hook is reaped.
        Thread.detachNewThread {
            let status = Self.watch(pid: pid, stdin: ours, input: input, stderr: stderrRead, into: tail)
            close(ours)
            close(stderrRead)
            exit.finish(status: status)
        }

        let clock = self.clock
        let timedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await exit.wait(); return false }
            group.addTask {
                do { try await clock.sleep(for: command.timeout) } catch { return false }
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

        let status = exit.status ?? 0
        if timedOut {
            throw HookError(hook: command.name, reason: .timedOut(after: command.timeout), stderrTail: tail.text)
        }
        if (status & 0x7F) != 0 {
            throw HookError(hook: command.name, reason: .signalled(signal: status & 0x7F), stderrTail: tail.text)
        }
        let code = (status >> 8) & 0xFF
        if code != 0 {
            throw HookError(hook: command.name, reason: .exited(status: code), stderrTail: tail.text)
        }
    }

    /// Starts the hook in its own process group with default signal handling and an empty signal mask, stdin and
    /// stderr as given, stdout on /dev/null, and exactly `environment` (`NAME=value` entries).
    static func spawn(_ arguments: [String], environment: [String], stdin: Int32, stderr: Int32) -> Result<pid_t, SpawnFailure> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        // Whatever the daemon ignores or handles (SIGPIPE, SIGHUP, ...), the hook starts with the defaults.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGCHLD, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else { return .failure(SpawnFailure(reason: "\(arguments[0]): \(String(cString: strerror(result)))")) }
        return .success(pid)
    }

    struct SpawnFailure: Error {
        var reason: String
    }

    /// Blocking (its own thread): writes `input` to the hook's stdin as far as the hook reads it, collects stderr
    /// while the hook runs, reaps it, then takes what is left in the stderr pipe without waiting (a grandchild may
    /// still hold it open). Returns the raw wait status. Never blocks in a write: the hook may never read.
    static func watch(pid: pid_t, stdin: Int32, input: [UInt8], stderr: Int32, into tail: StderrTail) -> Int32 {
        var status: Int32 = 0
        var chunk = [UInt8](repeating: 0, count: 4096)
        var open = true
        let flags = fcntl(stdin, F_GETFL)
        _ = fcntl(stdin, F_SETFL, flags | O_NONBLOCK)
        var written = 0
        var writing = true
        if input.isEmpty {
            shutdown(stdin, Int32(SHUT_WR))
            writing = false
        }
        while true {
            var descriptors: [pollfd] = []
            if open { descriptors.append(pollfd(fd: stderr, events: Int16(POLLIN), revents: 0)) }
            if writing { descriptors.append(pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0)) }
            if descriptors.isEmpty {
                usleep(50_000)
            } else if poll(&descriptors, nfds_t(descriptors.count), 50) > 0 {
                for descriptor in descriptors where descriptor.revents != 0 {
                    if descriptor.fd == stderr {
                        let count = chunk.withUnsafeMutableBytes { read(stderr, $0.baseAddress, $0.count) }
                        if count > 0 { tail.append(chunk[0..<count]) } else if count == 0 || (errno != EINTR && errno != EAGAIN) { open = false }
                    } else {
                        let sent = input.withUnsafeBytes { buffer in
                            send(stdin, buffer.baseAddress! + written, buffer.count - written, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                        }
                        if sent > 0 {
                            written += sent
                        } else if sent < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK {
                            // The hook closed its stdin: the rest is dropped, the hook chose not to read.
                            writing = false
                        }
                        if written == input.count {
                            shutdown(stdin, Int32(SHUT_WR))
                            writing = false
                        }
                    }
                }
            }
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped < 0 && errno != EINTR) { break }
        }
        if open { tail.drain(stderr) }
        return status
    }
}

/// The last bytes of a hook's stderr.
final class StderrTail: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func append(_ data: some Collection<UInt8>) {
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
            append(chunk[0..<count])
        }
    }

    var text: String {
        String(decoding: bytes.withLock { $0 }, as: UTF8.self)
    }
}

/// A one-shot: the process's raw wait status, awaited by any number of waiters.
final class ProcessExit: Sendable {
    private struct State {
        var status: Int32?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func finish(status: Int32) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.status = status
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    var status: Int32? { state.withLock { $0.status } }

    /// Waits for the exit; not cancellable, because a started process always ends (the runner kills it on timeout).
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.status != nil { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
