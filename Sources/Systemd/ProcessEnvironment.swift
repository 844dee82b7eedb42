#if canImport(Glibc)
import Glibc
#endif

/// The process's environment as a dictionary, read once where a caller does not pass one explicitly.
///
/// The systemd types take their environment as a parameter so that tests (and a daemon that
/// narrows its environment) hand them one explicitly instead of changing the process's own.
public enum ProcessEnvironment {
    /// The current process environment (`environ`).
    public static func current() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let assignment = String(cString: entry)
            if let equals = assignment.firstIndex(of: "=") {
                result[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
            }
            cursor += 1
        }
        return result
    }
}
