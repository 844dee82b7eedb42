import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TestSupport
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
        let (process, out, err) = try startCtl(arguments)
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
