import Foundation
import TestSupport

/// A finished child process: its exit status and output.
typealias ProcessResult = ChildProcess.Result

/// Real child processes for the control-plane tests (the shared ``ChildProcess`` runner).
enum ProcessRunner {
    /// Spawns a process with stdin from /dev/null and its output in files, and waits for it off the cooperative pool.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> ProcessResult {
        try await ChildProcess.run(executable, arguments, environment: environment)
    }

    /// Runs a shell command line (for setup steps like useradd).
    @discardableResult
    static func shell(_ command: String) async throws -> ProcessResult {
        try await ChildProcess.shell(command)
    }

    /// Finds an executable on PATH.
    static func which(_ name: String) -> String? {
        ChildProcess.which(name)
    }

    /// The directory holding the built products (tenantsyncctl sits next to the test bundle).
    static var productsDirectory: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while directory.path != "/" && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("tenantsyncctl").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }

    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }
}
