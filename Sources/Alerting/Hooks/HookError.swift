/// A hook that did not succeed: it could not start, exited non-zero, was killed by a signal, or timed out.
public struct HookError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case couldNotStart(String)
        case exited(status: Int32)
        case signalled(signal: Int32)
        case timedOut(after: Duration)
    }

    public var hook: String
    public var reason: Reason
    /// The last bytes the hook wrote to stderr (at most 2 KiB).
    public var stderrTail: String

    public init(hook: String, reason: Reason, stderrTail: String) {
        self.hook = hook
        self.reason = reason
        self.stderrTail = stderrTail
    }

    public var description: String {
        let what = switch reason {
        case .couldNotStart(let why): "could not start: \(why)"
        case .exited(let status): "exited with status \(status)"
        case .signalled(let signal): "was killed by signal \(signal)"
        case .timedOut(let after): "timed out after \(after) and was killed"
        }
        let tail = stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
        return "Hook \(hook) \(what)" + (tail.isEmpty ? "." : "; stderr: \(tail)")
    }
}

import Foundation
