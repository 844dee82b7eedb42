import Foundation

/// A real HTTP CONNECT proxy for the tests: Debian's `tinyproxy` on a loopback port, logging every request.
///
/// `scripts/ensure-deps.sh` (the README's test command) installs the package. Its log names each tunnel
/// (`Request (file descriptor N): CONNECT 127.0.0.1:PORT HTTP/1.1`), so a test can prove traffic went through it.
public final class TinyProxy: @unchecked Sendable {
    // @unchecked: `process` is set once in `start` and cleared by `stop`, both called by the one test that owns it.
    public let port: Int
    public let directory: String
    private var process: Process?

    public struct StartFailed: Error, CustomStringConvertible { public var description: String }

    private init(port: Int, directory: String) {
        self.port = port
        self.directory = directory
    }

    /// Starts tinyproxy; with a user name it demands Basic proxy authentication.
    public static func start(username: String? = nil, password: String? = nil) async throws -> TinyProxy {
        guard let executable = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw StartFailed(description: "tinyproxy is not installed; run scripts/ensure-deps.sh (apt-get install tinyproxy)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinyproxy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let proxy = TinyProxy(port: try freeLoopbackPort(), directory: directory)
        var configuration = [
            "Port \(proxy.port)", "Listen 127.0.0.1", "Timeout 30", "LogLevel Info", "MaxClients 50",
            "LogFile \"\(directory)/tinyproxy.log\"",
        ]
        if let username, let password { configuration.append("BasicAuth \(username) \(password)") }
        try (configuration.joined(separator: "\n") + "\n").write(toFile: directory + "/tinyproxy.conf", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-d", "-c", directory + "/tinyproxy.conf"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        proxy.process = process
        let listening = try await eventually("tinyproxy listens") { acceptsConnections(port: proxy.port) || !process.isRunning }
        guard listening, process.isRunning else {
            proxy.stop()
            throw StartFailed(description: "tinyproxy did not start listening on 127.0.0.1:\(proxy.port): \(proxy.log().suffix(500))")
        }
        return proxy
    }

    /// The proxy's log so far.
    public func log() -> String {
        (try? String(contentsOfFile: directory + "/tinyproxy.log", encoding: .utf8)) ?? ""
    }

    /// How many CONNECT tunnels to `hostPort` the log shows.
    public func tunnels(to hostPort: String) -> Int {
        log().components(separatedBy: "CONNECT \(hostPort) ").count - 1
    }

    /// Stops it (SIGTERM, then SIGKILL) and reaps it; the log stays readable until ``remove()``.
    public func stop() {
        process?.stopGracefully()
        process = nil
    }

    /// Stops it and deletes its directory.
    public func remove() {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
