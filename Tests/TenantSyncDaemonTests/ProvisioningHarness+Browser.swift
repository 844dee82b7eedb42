import TestSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The administrator's browser for the authorization-code flow: plain GETs that do not follow redirects,
/// so a test can look at (or tamper with) each hop the way a real browser would take it.
struct Browser: Sendable {
    struct Response: Sendable {
        var status: Int
        var location: String?
        var body: String
    }

    static func get(_ url: String) async throws -> Response {
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(20))
            let body = try await response.body.collect(upTo: 1 << 20)
            try await http.shutdown()
            return Response(status: Int(response.status.code), location: response.headers.first(name: "Location"), body: String(buffer: body))
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// Opens the authorize URL and follows its redirect to the daemon's listener; returns both hops.
    static func signIn(_ authorizeURL: String) async throws -> (authorize: Response, listener: Response) {
        let authorize = try await get(authorizeURL)
        let location = try #require(authorize.location, "the authorize endpoint did not redirect: \(authorize.status) \(authorize.body)")
        return (authorize, try await get(location))
    }

    /// The value of one query parameter of a URL.
    static func parameter(_ name: String, in url: String) -> String? {
        URLComponents(string: url)?.queryItems?.first { $0.name == name }?.value
    }

    /// The URL with one query parameter replaced.
    static func replacing(_ name: String, with value: String, in url: String) throws -> String {
        var components = try #require(URLComponents(string: url))
        components.queryItems = components.queryItems?.map { $0.name == name ? URLQueryItem(name: name, value: value) : $0 }
        // URLComponents leaves '+' alone in queries; the identity platform reads it as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return try #require(components.string)
    }
}

extension ProvisioningHarness {
    /// The authorize URLs the CLI printed, in order.
    static func authorizeURLs(in stdout: String) -> [String] {
        stdout.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("Open "), trimmed.contains("/oauth2/v2.0/authorize") else { return nil }
            return String(trimmed.dropFirst("Open ".count))
        }
    }

    /// Runs `tenantsyncctl` and, each time it prints an authorize URL, lets `administrator` act on it in a browser.
    ///
    /// The CLI's stdout is read while it runs (non-blocking reads), because it waits for the redirect after printing the URL.
    func ctlWithBrowser(
        _ arguments: [String], timeout: Duration = .seconds(90), administrator: @Sendable (_ index: Int, _ authorizeURL: String) async throws -> Void
    ) async throws -> Run {
        let process = Process()
        process.executableURL = DaemonProcess.binDirectory.appendingPathComponent("tenantsyncctl")
        process.arguments = ["--socket", socket] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "TENANTSYNC_SOCKET")
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let fd = out.fileHandleForReading.fileDescriptor
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var stdout = Data()
        var handled = 0
        var endOfOutput = false
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = ContinuousClock.now + timeout
        while !endOfOutput || process.isRunning {
            while !endOfOutput {
                let count = Glibc.read(fd, &buffer, buffer.count)
                if count > 0 {
                    stdout.append(contentsOf: buffer[0..<count])
                } else if count == 0 {
                    endOfOutput = true
                } else if errno != EINTR {
                    break  // EAGAIN: nothing more yet
                }
            }
            let urls = Self.authorizeURLs(in: String(decoding: stdout, as: UTF8.self))
            while handled < urls.count {
                try await administrator(handled, urls[handled])
                handled += 1
            }
            if ContinuousClock.now >= deadline, process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try await Task.sleep(for: .milliseconds(50))
        }
        let stderr = err.fileHandleForReading.readAllRetryingInterrupts()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port` (a refused connect means closed).
func acceptsConnections(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return result == 0
}
