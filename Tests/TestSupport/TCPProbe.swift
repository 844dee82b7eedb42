import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whether something accepts TCP connections on 127.0.0.1:`port` (a refused connect means closed).
public func acceptsConnections(port: Int) -> Bool {
    (try? LoopbackTCPConnection(port: port)) != nil
}

/// Why no loopback port could be had.
public struct NoFreeLoopbackPort: Error, CustomStringConvertible {
    public var description: String { "cannot bind a loopback port" }
}

/// A loopback port nobody listens on right now (bound to port 0, read back, released).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw NoFreeLoopbackPort() }
    return Int(UInt16(bigEndian: address.sin_port))
}
