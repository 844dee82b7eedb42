import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Process {
    /// Sends SIGTERM, gives the child up to two seconds to exit, then SIGKILLs it, and reaps it.
    ///
    /// Test peers (aiosmtpd) normally exit on SIGTERM at once; the kill keeps a wedged peer from
    /// outliving the test and holding its port.
    public func stopGracefully() {
        guard isRunning else { return }
        terminate()
        for _ in 0..<100 where isRunning { usleep(20_000) }
        if isRunning { kill(processIdentifier, SIGKILL) }
        waitUntilExit()
    }
}
