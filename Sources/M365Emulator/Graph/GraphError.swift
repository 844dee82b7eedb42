/// A Microsoft Graph error: `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
struct GraphError: Error, Sendable {
    var status: Int
    var code: String
    var message: String
    var headers: [(String, String)] = []

    func response(now: Double, clientRequestID: String?) -> EmulatorResponse {
        let requestID = RandomMaterial.guid()
        var w = JSONWriter()
        w.raw("{\"error\":{")
        w.key("code"); w.string(code); w.comma()
        w.key("message"); w.string(message); w.comma()
        w.key("innerError"); w.raw("{")
        w.key("date"); w.string(EmulatorTime.graphInnerDate(now)); w.comma()
        w.key("request-id"); w.string(requestID); w.comma()
        w.key("client-request-id"); w.string(clientRequestID ?? requestID)
        w.raw("}}}")
        return .json(status, w, headers: [("request-id", requestID), ("client-request-id", clientRequestID ?? requestID)] + headers)
    }

    static let emptyToken = GraphError(status: 401, code: "InvalidAuthenticationToken", message: "Access token is empty.")
    static let invalidToken = GraphError(status: 401, code: "InvalidAuthenticationToken", message: "Access token validation failure. Invalid signature.")
    static let expiredToken = GraphError(status: 401, code: "InvalidAuthenticationToken", message: "Lifetime validation failed, the token is expired.")
    static let wrongAudience = GraphError(status: 401, code: "InvalidAuthenticationToken", message: "Access token validation failure. Invalid audience.")
    /// Continuous access evaluation refused a `cp1` token issued before a session revocation (Microsoft's
    /// "Claims challenges, claims requests and client capabilities"): the claims ask for a token not before `revocation`.
    static func claimsChallenge(revocation: Double) -> GraphError {
        let claims = #"{"access_token":{"nbf":{"essential":true,"value":"\#(Int(revocation))"}}}"#
        return GraphError(
            status: 401, code: "InvalidAuthenticationToken",
            message: "Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp",
            headers: [("WWW-Authenticate", ClaimsRequest.challengeHeader(claims: claims))]
        )
    }

    static let insufficientPrivileges = GraphError(status: 403, code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation.")

    static func notFound(_ id: String) -> GraphError {
        GraphError(status: 404, code: "Request_ResourceNotFound", message: "Resource '\(id)' does not exist or one of its queried reference-property objects are not present.")
    }

    static func badPageSize(_ value: String) -> GraphError {
        GraphError(status: 400, code: "Request_UnsupportedQuery", message: "Invalid page size specified: '\(value)'. Must be between 1 and 999 inclusive.")
    }

    static func unsupportedQuery(_ message: String) -> GraphError {
        GraphError(status: 400, code: "Request_UnsupportedQuery", message: message)
    }

    static func badRequest(_ message: String) -> GraphError {
        GraphError(status: 400, code: "Request_BadRequest", message: message)
    }

    static let noRoute = GraphError(status: 400, code: "BadRequest", message: "Resource not found for the segment.")
}
