import Foundation

/// The Office 365 Management Activity API's subscriptions (`{manage}/api/v1.0/{tenantId}/activity/feed/subscriptions/…`).
///
/// `GET …/subscriptions/list` answers a JSON array of `{contentType, status, webhook}`; `POST
/// …/subscriptions/start?contentType=Audit.Exchange` and `…/stop` change it and answer that one subscription. A missing, unknown, expired or
/// non-`https://manage.office.com` token answers 401; a token without `ActivityFeed.Read` (or
/// `ActivityFeed.ReadDlp`) 403 `AF10001`; a token of another tenant 403 `AF10002`.
extension World {
    static let activityContentTypes = ["Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General", "DLP.All"]

    /// `(tenant, action)` of a Management Activity API path, optionally below `/manage`.
    static func managementRoute(_ segments: [String]) -> (tenant: String, action: String)? {
        guard let i = segments.firstIndex(of: "api"), segments.count == i + 7, segments[i + 1] == "v1.0",
              segments[i + 3] == "activity", segments[i + 4] == "feed", segments[i + 5] == "subscriptions" else { return nil }
        return (segments[i + 2], segments[i + 6])
    }

    func handleManagement(_ request: EmulatorRequest, now: Double) -> EmulatorResponse {
        guard let route = Self.managementRoute(request.segments) else { return Self.managementError(404, "AF20001", "No such operation.") }
        let token: AccessTokenRecord
        switch authenticate(request, resource: .management, now: now) {
        case .failure(let error):
            return Self.managementError(401, "AF10000", "Authorization has been denied for this request: the access token is missing, invalid, expired or not for https://manage.office.com.",
                                        headers: error.headers.isEmpty ? [("WWW-Authenticate", "Bearer error=\"invalid_token\"")] : error.headers)
        case .success(let record):
            token = record
        }
        let tenant = tenants[token.tenant]
        tenant.count("management")
        guard tenantIndex(route.tenant) == token.tenant else {
            return Self.managementError(403, "AF10002", "The tenant ID passed in the URL (\(route.tenant)) does not match the tenant ID passed in the access token (\(tenant.id)).")
        }
        guard token.permissions.contains(where: { $0 == "ActivityFeed.Read" || $0 == "ActivityFeed.ReadDlp" }) else {
            tenant.count("management.forbidden")
            return Self.managementError(403, "AF10001", "The permission set (\(token.permissions.joined(separator: ","))) sent in the request does not include the expected permission.")
        }
        switch (request.method, route.action) {
        case ("GET", "list"):
            break
        case ("POST", "start"), ("POST", "stop"):
            guard let type = request.query["contentType"], Self.activityContentTypes.contains(type) else {
                return Self.managementError(400, "AF20023", "The subscription is invalid: contentType must be one of \(Self.activityContentTypes.joined(separator: ", ")).")
            }
            if route.action == "start" { tenant.activitySubscriptions.insert(type) } else { tenant.activitySubscriptions.remove(type) }
            let one: [String: String?] = ["contentType": type, "status": route.action == "start" ? "enabled" : "disabled", "webhook": nil]
            let data = (try? JSONEncoder().encode(one)) ?? Data("{}".utf8)
            return EmulatorResponse(status: 200, headers: [("Content-Type", "application/json; charset=utf-8")], body: Array(data))
        default:
            return Self.managementError(400, "AF20001", "Unsupported operation \(request.method) \(route.action).")
        }
        let list = Self.activityContentTypes.filter { tenant.activitySubscriptions.contains($0) }
            .map { ["contentType": $0, "status": "enabled", "webhook": nil] as [String: String?] }
        let data = (try? JSONEncoder().encode(list)) ?? Data("[]".utf8)
        return EmulatorResponse(status: 200, headers: [("Content-Type", "application/json; charset=utf-8")], body: Array(data))
    }

    static func managementError(_ status: Int, _ code: String, _ message: String, headers: [(String, String)] = []) -> EmulatorResponse {
        let data = (try? JSONEncoder().encode(["error": ["code": code, "message": message]])) ?? Data()
        return EmulatorResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers, body: Array(data))
    }
}
