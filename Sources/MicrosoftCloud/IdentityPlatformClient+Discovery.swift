import AsyncHTTPClient
import Foundation
import NIOCore
import TenantSyncCore

extension IdentityPlatformClient {
    /// Resolves a tenant domain (or id) to the tenant's GUID through its OpenID discovery document.
    ///
    /// The issuer of `/{tenant}/v2.0/.well-known/openid-configuration` is
    /// `{authority}/{tenant-guid}/v2.0`; an unknown tenant is answered with an error.
    public func discoverTenantID(_ tenant: String) async throws -> String {
        let escaped = tenant.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? tenant
        var request = HTTPClientRequest(url: "\(endpoints.authority)/\(escaped)/v2.0/.well-known/openid-configuration")
        request.headers.add(name: "Accept", value: "application/json")
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await httpClient.execute(request, timeout: .init(requestTimeout))
            body = try await response.body.collect(upTo: Self.maximumResponseBytes)
        } catch {
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            throw IdentityPlatformError(operation: "openid-configuration", transport: Self.transport(of: error))
        }
        guard response.status.code == 200 else {
            throw TenantSyncError(
                .tenantNotFound, "Microsoft does not know the tenant \(tenant); give its primary domain or tenant id.",
                context: ["tenant": tenant, "http.status": "\(response.status.code)"]
            )
        }
        struct Discovery: Decodable { var issuer: String }
        guard let discovery = try? JSONDecoder().decode(Discovery.self, from: Data(body.readableBytesView)),
              let issuer = URL(string: discovery.issuer)
        else {
            throw IdentityPlatformError(operation: "openid-configuration", httpStatus: 200, transport: .malformedResponse)
        }
        let parts = issuer.path.split(separator: "/").map(String.init)
        guard let index = parts.lastIndex(of: "v2.0"), index > 0, UUID(uuidString: parts[index - 1]) != nil else {
            throw IdentityPlatformError(operation: "openid-configuration", httpStatus: 200, transport: .malformedResponse)
        }
        return parts[index - 1].lowercased()
    }
}
