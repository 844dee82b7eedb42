import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `[database] url`: where a PostgreSQL database is, as `postgresql://USER@HOST:PORT/DB`.
///
/// Parsed strictly, by hand rather than with `URLComponents`, so that every part is checked and no
/// message ever repeats what came before the `@` (a password written there by mistake). It never holds
/// a password: the password comes from `password_file` or the `database-password` credential.
public struct PostgreSQLURL: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    /// A host name, an IPv4 address, or an IPv6 address without its brackets.
    public var host: String
    public var port: Int
    public var database: String

    public static let defaultPort = 5432

    public init(user: String, host: String, port: Int = PostgreSQLURL.defaultPort, database: String) {
        self.user = user
        self.host = host
        self.port = port
        self.database = database
    }

    /// Why a text is not a usable URL; the message names the faulty part, never the text before the `@`.
    public struct Refusal: Error, Sendable, Equatable {
        public var message: String
    }

    /// `HOST:PORT` as operators write it (`[::1]:5432` for IPv6).
    public var hostAndPort: String { (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }

    public var description: String { "postgresql://\(user)@\(hostAndPort)/\(database)" }

    public init(parsing text: String) throws(Refusal) {
        let form = "write it as postgresql://USER@HOST:PORT/DATABASE"
        guard let schemeEnd = text.range(of: "://") else { throw Refusal(message: "database.url is not a URL; \(form)") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgresql" || scheme == "postgres" else {
            throw Refusal(message: "database.url has the scheme \"\(scheme.prefix(20))\"; only postgresql:// (or postgres://) is accepted")
        }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else {
            throw Refusal(message: "database.url names no user; \(form)")
        }
        let userInfo = authority[..<at]
        guard !userInfo.contains(":") else {
            // Never repeat the text: it holds a password.
            throw Refusal(
                message: "database.url must not carry a password; remove it from the URL and put it in a file named by [database] password_file (owner-only, like the key file), or pass it as the systemd credential database-password"
            )
        }
        guard let user = userInfo.removingPercentEncoding, !user.isEmpty, !user.contains(where: \.isNewline) else {
            throw Refusal(message: "database.url names no user; \(form)")
        }
        let (host, port) = try Self.hostAndPort(authority[authority.index(after: at)...], form: form)

        var tail = rest[authorityEnd...]
        guard tail.first == "/" else { throw Refusal(message: "database.url names no database; \(form)") }
        tail = tail.dropFirst()
        let pathEnd = tail.firstIndex { $0 == "?" || $0 == "#" } ?? tail.endIndex
        guard let database = tail[..<pathEnd].removingPercentEncoding, !database.isEmpty, !database.contains("/") else {
            throw Refusal(message: "database.url names no database (or more than one path segment); \(form)")
        }
        let extra = tail[pathEnd...]
        if extra.first == "?" {
            let names = extra.dropFirst().split(separator: "&").map { String($0.split(separator: "=", maxSplits: 1).first ?? "").prefix(40) }
            throw Refusal(
                message: "database.url has query parameters (\(names.joined(separator: ", "))), which tenantsync does not take; TLS is set by [database] tls and ca_file, the password by password_file"
            )
        }
        guard extra.isEmpty else { throw Refusal(message: "database.url must not have a fragment (#...); \(form)") }
        self.init(user: user, host: host, port: port, database: database)
    }

    private static func hostAndPort(_ text: Substring, form: String) throws(Refusal) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]") else { throw Refusal(message: "database.url has an IPv6 address without its closing ]") }
            host = text[text.index(after: text.startIndex)..<close]
            var address = in6_addr()
            guard inet_pton(AF_INET6, String(host), &address) == 1 else {
                throw Refusal(message: "database.url has \"[\(host.prefix(60))]\", which is not an IPv6 address")
            }
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw Refusal(message: "database.url: after the IPv6 address comes :PORT or the path; \(form)") }
                portText = after.dropFirst()
            }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else {
                throw Refusal(message: "database.url: an IPv6 address goes in brackets, like postgresql://USER@[::1]:5432/DATABASE")
            }
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") }) else {
                throw Refusal(message: "database.url has the host \"\(host.prefix(60))\", which is not a host name or address")
            }
        }
        guard !host.isEmpty else { throw Refusal(message: "database.url names no host; \(form)") }
        var port = defaultPort
        if let portText {
            guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), let value = Int(portText), (1...65_535).contains(value) else {
                throw Refusal(message: "database.url has the port \"\(portText.prefix(12))\"; a port is a number from 1 to 65535 (default 5432)")
            }
            port = value
        }
        return (String(host), port)
    }
}
