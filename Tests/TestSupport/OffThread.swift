import Foundation

/// Runs blocking work (waiting for a child process, reading its output) on a thread of its own,
/// so that it does not hold one of the few cooperative threads other tests need.
public func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
