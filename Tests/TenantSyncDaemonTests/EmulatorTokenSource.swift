import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Synchronization
import TenantSyncCore

/// Graph tokens for the product app, obtained from the emulator with client credentials.
///
/// The sync tests need *a* valid Graph token; the token lifecycle is tested on its own.
final class EmulatorTokenSource: GraphTokenSource {
    let baseURL: URL
    let clientID: String
    let clientSecret: String
    let requests = Mutex(0)
    private let cached = Mutex<[String: String]>([:])

    init(baseURL: URL, clientID: String, clientSecret: String) {
        self.baseURL = baseURL
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    func graphAccessToken(tenantID: String, forceRefresh: Bool) async throws -> Secret {
        if !forceRefresh, let token = cached.withLock({ $0[tenantID] }) { return Secret(token) }
        requests.withLock { $0 += 1 }
        var request = HTTPClientRequest(url: "\(baseURL.absoluteString)/\(tenantID)/oauth2/v2.0/token")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let form = "grant_type=client_credentials&client_id=\(clientID)&client_secret=\(clientSecret)&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        struct Token: Decodable { var access_token: String }
        let token = try JSONDecoder().decode(Token.self, from: Data(buffer: body))
        cached.withLock { $0[tenantID] = token.access_token }
        return Secret(token.access_token)
    }
}
