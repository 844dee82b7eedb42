import Foundation
import Synchronization

/// Ends the test process with a message if a test is still running after a deadline.
///
/// For tests whose failure mode is a hang of the cooperative thread pool: a timeout task
/// cannot fire then, but this plain thread can, so the run fails with a reason instead of
/// hanging until CI kills it.
final class Watchdog: Sendable {
    private let disarmed = Atomic<Bool>(false)

    /// - Parameters:
    ///   - seconds: real time before the watchdog fires.
    ///   - message: what went wrong, evaluated when it fires.
    init(after seconds: Double, _ message: @escaping @Sendable () -> String) {
        let deadline = Date().addingTimeInterval(seconds)
        Thread.detachNewThread { [self] in
            while Date() < deadline {
                if disarmed.load(ordering: .acquiring) { return }
                Thread.sleep(forTimeInterval: 0.1)
            }
            if disarmed.load(ordering: .acquiring) { return }
            let text = "Watchdog: \(message())\n"
            FileHandle.standardError.write(Data(text.utf8))
            fatalError(text)
        }
    }

    /// Stops the watchdog; the test finished in time.
    func disarm() { disarmed.store(true, ordering: .releasing) }
}
