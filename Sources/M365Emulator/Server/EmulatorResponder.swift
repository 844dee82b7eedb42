import Hummingbird
import NIOCore

/// Hummingbird glue: turns a request into an `EmulatorRequest` and the emulator's answer into a `Response`.
struct EmulatorResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let emulator: M365Emulator

    struct DroppedConnection: Error {}
    /// `HTTPField`, named through `HTTPFields` because Hummingbird re-exports only the latter.
    typealias Field = HTTPFields.Element

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 8 << 20)
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.canonicalName.lowercased()] = field.value
        }
        let path = request.uri.path
        let segments = path.split(separator: "/").map { FormDecoding.decode($0, plusIsSpace: false) }
        let query = request.uri.query.map { FormDecoding.parse(Substring($0)) } ?? [:]
        let emulatorRequest = EmulatorRequest(method: request.method.rawValue, segments: segments, path: path,
                                              query: query, headers: headers, body: Array(body.readableBytesView))
        let answer = await emulator.handle(emulatorRequest)

        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let n = Field.Name(name) { fields.append(Field(name: n, value: value)) }
        }
        let bytes = answer.body
        if answer.dropConnection {
            // Announce more bytes than we send, write half, then fail: the server closes the connection mid-body.
            fields[.contentLength] = String(max(bytes.count, 64) * 2)
            return Response(status: .init(code: answer.status), headers: fields, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: bytes.prefix(bytes.count / 2)))
                throw DroppedConnection()
            })
        }
        return Response(status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
