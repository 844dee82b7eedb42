import Foundation
import TestSupport

extension ChildProcess {
    /// The daemon tests' fixtures (scripts for the third-party clients).
    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    }
}
