import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real SMTP server for the tests: Debian's aiosmtpd (`python3-aiosmtpd`) run by `/usr/bin/python3`,
/// with a self-signed certificate made by `openssl`, writing what it accepts to a maildir.
// @unchecked: a test fixture driven by one test at a time; its blocking calls hop to a thread.
final class SMTPServer: @unchecked Sendable {
    enum Mode: String { case starttls, tls, plain }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let username = "alerts@example.org"
    static let password = "pässwörd-Tr0ub4dor&3"

    let directory: String
    let port: Int
    let mode: Mode
    /// The address the server listens on.
    let listen: String
    /// Sends a forged reply together with its 220 to STARTTLS, before TLS begins (the response injection attack).
    let injectAfterStartTLS: Bool
    private var process: Process?

    var maildir: String { directory + "/maildir" }
    var certificatePath: String { directory + "/cert.pem" }
    var passwordPath: String { directory + "/password" }
    var authLog: String { directory + "/auth.log" }

    /// Creates the certificate and password file; `start()` runs the server (again, after `stop()`).
    init(mode: Mode, port: Int? = nil, listen: String = "127.0.0.1", injectAfterStartTLS: Bool = false) throws {
        directory = NSTemporaryDirectory() + "tenantsync-smtp-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.port = try port ?? freeLoopbackPort()
        self.mode = mode
        self.listen = listen
        self.injectAfterStartTLS = injectAfterStartTLS
        try Self.password.write(toFile: passwordPath, atomically: true, encoding: .utf8)
        try Self.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", directory + "/key.pem", "-out", certificatePath,
        ])
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Creates the fixture off the cooperative pool (openssl takes a while).
    static func make(mode: Mode, listen: String = "127.0.0.1", injectAfterStartTLS: Bool = false) async throws -> SMTPServer {
        try await offThread { try SMTPServer(mode: mode, listen: listen, injectAfterStartTLS: injectAfterStartTLS) }
    }

    /// An IPv4 address of this machine outside 127.0.0.0/8 (a test server there is reached without loopback).
    static func nonLoopbackIPv4() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var entry = list
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard let address = current.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            var v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            guard UInt32(bigEndian: v4.s_addr) >> 24 != 127 else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            guard inet_ntop(AF_INET, &v4, &text, socklen_t(text.count)) != nil else { continue }
            return String(cString: text)
        }
        return nil
    }

    func start() async throws {
        try await offThread { try self.startBlocking() }
    }

    private func startBlocking() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            Self.fixtures + "/smtp_server.py", "--port", String(port), "--maildir", maildir, "--mode", mode.rawValue,
            "--cert", certificatePath, "--key", directory + "/key.pem",
            "--user", Self.username, "--password-file", passwordPath, "--auth-log", authLog, "--listen", listen,
        ] + (injectAfterStartTLS ? ["--inject-after-starttls"] : [])
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        self.process = process
        let line = output.fileHandleForReading.readLine()
        guard line == "READY" else {
            stop()
            throw ServerFailed(description: "aiosmtpd did not start (is python3-aiosmtpd installed?): \(line ?? "no output")")
        }
    }

    func stop() {
        process?.stopGracefully()
        process = nil
    }

    /// The received messages parsed by Python's `email` package.
    func messages() async throws -> [[String: Any]] {
        let json: String = try await offThread { try self.messagesJSON() }
        return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
    }

    private func messagesJSON() throws -> String {
        guard FileManager.default.fileExists(atPath: maildir) else { return "[]" }
        return try Self.run("/usr/bin/python3", [Self.fixtures + "/read_maildir.py", maildir])
    }

    struct ServerFailed: Error, CustomStringConvertible { var description: String }

    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = output.fileHandleForReading.readAllRetryingInterrupts()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ServerFailed(description: "\(program) \(arguments.first ?? "") exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }
}

extension FileHandle {
    /// Reads one line (blocking); `nil` at end of file.
    func readLine() -> String? {
        var bytes: [UInt8] = []
        while true {
            let data = readData(ofLength: 1)
            guard let byte = data.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}
