import Foundation
import NIOCore

/// Writes the replies of one call; writes nothing for a `oneway` call. Each write is bounded by `timeout`.
struct VarlinkReplyWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let oneway: Bool
    let timeout: ReplyWriteTimeout

    func reply<Parameters: Encodable>(_ parameters: Parameters, continues: Bool = false) async throws {
        guard !oneway else { return }
        let message = VarlinkOutgoingReply(parameters: parameters, continues: continues ? true : nil)
        try await write(VarlinkJSON.makeEncoder().encode(message))
    }

    func error(_ error: VarlinkError) async throws {
        guard !oneway else { return }
        try await write(VarlinkJSON.makeEncoder().encode(VarlinkOutgoingError(error: error.name, parameters: error.parameters)))
    }

    private func write(_ data: Data) async throws {
        let outbound = self.outbound
        try await timeout.bound { try await outbound.write(ByteBuffer(bytes: data)) }
    }
}
