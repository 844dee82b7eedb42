import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Synchronization
import TenantSyncCore

#if canImport(Glibc)
import Glibc
#endif

/// A failure of the benchmark itself (bad flags, unexpected answers).
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `argv` with `--name value` options and positionals.
struct Arguments {
    let all: [String]

    func positional(_ index: Int, _ what: String) throws -> String {
        let plain = all.enumerated().filter { offset, word in
            !word.hasPrefix("--") && (offset == 0 || !all[offset - 1].hasPrefix("--"))
        }.map(\.element)
        guard index < plain.count else { throw BenchError("missing \(what)") }
        return plain[index]
    }

    func optional(_ name: String) -> String? {
        guard let index = all.firstIndex(of: name), index + 1 < all.count else { return nil }
        return all[index + 1]
    }

    func value(_ name: String) throws -> String {
        guard let value = optional(name) else { throw BenchError("missing \(name)") }
        return value
    }
}

/// Figures of this process from the kernel.
enum ProcessMeasure {
    /// User + system CPU time of this process so far.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// Peak resident set size (VmHWM) of this process, in KiB.
    static func peakRSSKiB() -> Int { statusField("VmHWM:") }

    /// Current resident set size (VmRSS), in KiB.
    static func rssKiB() -> Int { statusField("VmRSS:") }

    private static func statusField(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
        for line in status.split(separator: "\n") where line.hasPrefix(name) {
            return Int(line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? -1
        }
        return -1
    }
}

/// Graph tokens for the product app by client credentials, one per tenant, cached.
final class ClientCredentialsTokenSource: GraphTokenSource {
    let baseURL: String
    let clientID: String
    let clientSecret: String
    private let cached = Mutex<[String: String]>([:])

    init(baseURL: String, clientID: String, clientSecret: String) {
        self.baseURL = baseURL
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    func graphAccessToken(tenantID: String, forceRefresh: Bool) async throws -> Secret {
        if !forceRefresh, let token = cached.withLock({ $0[tenantID] }) { return Secret(token) }
        var request = HTTPClientRequest(url: "\(baseURL)/\(tenantID)/oauth2/v2.0/token")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let form = "grant_type=client_credentials&client_id=\(clientID)&client_secret=\(clientSecret)"
            + "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        struct Token: Decodable { var access_token: String }
        guard response.status == .ok, let token = try? JSONDecoder().decode(Token.self, from: Data(buffer: body)) else {
            throw BenchError("token request failed with HTTP \(response.status.code)")
        }
        cached.withLock { $0[tenantID] = token.access_token }
        return Secret(token.access_token)
    }
}
