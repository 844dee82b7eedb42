import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension FileHandle {
    /// Reads to end of file, retrying reads a signal interrupted.
    ///
    /// Foundation's `readDataToEndOfFile()` and `availableData` trap on EINTR,
    /// which the test process sees whenever a child exits (SIGCHLD).
    public func readAllRetryingInterrupts() -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = Glibc.read(fileDescriptor, &buffer, buffer.count)
            if count > 0 {
                data.append(contentsOf: buffer[0..<count])
            } else if count < 0, errno == EINTR {
                continue
            } else {
                return data
            }
        }
    }
}
