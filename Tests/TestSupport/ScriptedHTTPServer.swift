import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A plain HTTP/1.1 server on 127.0.0.1 that answers each request with what a script returns.
///
/// For the answers no well-behaved server gives (a redirect, a next link to another host or to
/// itself forever) and for proving that a request never arrived: every request it received is
/// kept in ``requests``. One connection at a time, `Connection: close` on every answer; plain
/// blocking sockets on a thread of its own, so it needs no event loop from the code under test.
public final class ScriptedHTTPServer: Sendable {
    public struct Request: Sendable {
        public var method: String
        /// The request target: path and query, e.g. `/v1.0/users?$top=999`.
        public var target: String
        /// Header names lowercased.
        public var headers: [String: String]
        public var body: Data
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: Data

        public init(status: Int, headers: [(String, String)] = [], body: Data = Data()) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public static func json(_ text: String, status: Int = 200) -> Response {
            Response(status: status, headers: [("Content-Type", "application/json")], body: Data(text.utf8))
        }
    }

    /// Why the server could not start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public let port: Int
    /// `http://127.0.0.1:PORT`
    public var origin: String { "http://127.0.0.1:\(port)" }

    private let listener: Int32
    private let received = Mutex<[Request]>([])
    private let stopped = DispatchSemaphore(value: 0)

    /// Binds a free loopback port and starts answering with `script`.
    public init(_ script: @escaping @Sendable (Request) -> Response) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartError(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound, listen(fd, 64) == 0 else {
            close(fd)
            throw StartError(description: "cannot listen on loopback: \(String(cString: strerror(errno)))")
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in serve(script) }
        thread.start()
    }

    private func serve(_ script: @Sendable (Request) -> Response) {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                break
            }
            if let request = Self.readRequest(connection) {
                received.withLock { $0.append(request) }
                Self.write(script(request), to: connection)
            }
            close(connection)
        }
        stopped.signal()
    }

    /// Every request received so far, in order.
    public var requests: [Request] { received.withLock { $0 } }

    /// Stops accepting and waits for the serving thread to end.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        stopped.wait()
        close(listener)
    }

    private static func readRequest(_ fd: Int32) -> Request? {
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        var expected = Int.max
        while bytes.count < expected {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return nil }
            bytes += chunk[0..<count]
            if headerEnd == nil, let range = bytes.firstRange(of: separator) {
                headerEnd = range.upperBound
                let head = String(decoding: bytes[0..<range.lowerBound], as: UTF8.self)
                let length = head.split(separator: "\r\n").dropFirst()
                    .first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                expected = range.upperBound + length
            }
        }
        guard let headerEnd else { return nil }
        let lines = String(decoding: bytes[0..<(headerEnd - 4)], as: UTF8.self).split(separator: "\r\n")
        let requestLine = lines.first?.split(separator: " ") ?? []
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return Request(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: Data(bytes[headerEnd...]))
    }

    private static func write(_ response: Response, to fd: Int32) {
        var head = "HTTP/1.1 \(response.status) Scripted\r\nContent-Length: \(response.body.count)\r\nConnection: close\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + Array(response.body)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return }
            offset += sent
        }
    }
}
