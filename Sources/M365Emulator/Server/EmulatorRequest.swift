/// A request reduced to what the emulator's logic needs, independent of the HTTP server.
struct EmulatorRequest: Sendable {
    var method: String
    /// Path segments, percent-decoded, without empty ones.
    var segments: [String]
    var path: String
    var query: [String: String]
    /// Header values by lowercased name.
    var headers: [String: String]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers[name] }

    var form: [String: String] {
        FormDecoding.parse(Substring(String(decoding: body, as: UTF8.self)))
    }

    var clientRequestID: String? { headers["client-request-id"] }
}

/// A response before it becomes HTTP: status, headers and body bytes.
struct EmulatorResponse: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    /// Close the connection mid-body (fault injection).
    var dropConnection = false

    static func json(_ status: Int, _ writer: JSONWriter, headers: [(String, String)] = []) -> EmulatorResponse {
        EmulatorResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers,
                         body: writer.bytes)
    }

    static func redirect(_ location: String) -> EmulatorResponse {
        EmulatorResponse(status: 302, headers: [("Location", location)])
    }
}
