import Foundation

/// Request dispatch: admin API, fault injection, identity platform, Graph, Exchange; then the request log.
extension M365Emulator {
    enum Area: String {
        case token, devicecode, authorize, adminconsent, graph, outlook, exchangeAdmin, management, other
    }

    func handle(_ request: EmulatorRequest) async -> EmulatorResponse {
        let segments = request.segments
        if segments.first == "_emulator" {
            return await handleAdmin(request)
        }
        let baseURL = state.baseURL
        let area = Self.area(of: segments)
        let identityTenant = [.token, .devicecode, .authorize, .adminconsent].contains(area) ? segments.first : nil

        // Faults are matched against the tenant in the path (identity) or behind the bearer token (Graph).
        let (fault, tenantIndex, now, latency) = state.world.withLock { w -> (FaultRule?, Int?, Double, Duration) in
            let t: Int? = identityTenant.flatMap { w.tenantIndex($0) } ?? (area.usesBearer ? w.tenantOfBearer(request) : nil)
            let latency = t.flatMap { w.tenants[$0].settings.latencyMilliseconds }.map { Duration.milliseconds($0) }
                ?? w.configuration.latency
            return (w.takeFault(path: request.path, tenant: t), t, w.now(), latency)
        }
        // The round trip to Microsoft: an async sleep, so concurrent requests wait side by side as they would
        // against the real service (and the emulator's lock is not held meanwhile).
        if latency > .zero { try? await Task.sleep(for: latency) }

        var response: EmulatorResponse
        var faultName: String?
        if let fault {
            faultName = fault.kind.rawValue
            switch fault.kind {
            case .delay:
                try? await Task.sleep(for: .milliseconds(fault.delayMilliseconds ?? 1_000))
                response = route(request, area: area, baseURL: baseURL)
            case .status:
                response = faultResponse(status: fault.status ?? 500, retryAfter: fault.retryAfterSeconds, area: area,
                                         request: request, baseURL: baseURL, now: now)
                faultName = "status \(fault.status ?? 500)"
            case .drop:
                response = route(request, area: area, baseURL: baseURL)
                response.dropConnection = true
            case .malformedJSON:
                response = route(request, area: area, baseURL: baseURL)
                let keep = max(1, response.body.count / 2)
                response.body = Array(response.body.prefix(keep)) + Array("\"broken".utf8)
            case .gone:
                response = state.world.withLock { $0.deltaGone(path: request.path, baseURL: baseURL) }
                    .response(now: now, clientRequestID: request.clientRequestID)
            }
        } else {
            response = route(request, area: area, baseURL: baseURL)
        }

        let entry = RequestLogEntry(
            time: EmulatorTime.iso(now), method: request.method, path: request.path, status: response.status,
            tenantId: nil, kind: area.rawValue,
            grantType: area == .token ? request.form["grant_type"] : nil, fault: faultName,
            priority: request.header("x-ms-throttle-priority"))
        state.world.withLock { w in
            var e = entry
            e.tenantId = tenantIndex.map { w.tenants[$0].id }
                ?? (area.usesBearer ? w.tenantOfBearer(request).map { w.tenants[$0].id } : nil)
            w.log(e)
        }
        if response.status >= 400 {
            logger.debug("Emulator answered an error", metadata: [
                "http.path": "\(request.path)", "http.status": "\(response.status)",
            ])
        }
        return response
    }

    static func area(of segments: [String]) -> Area {
        // (Areas whose tenant comes from the bearer token: see `Area.usesBearer`.)
        if segments.first == "v1.0" { return .graph }
        if segments.count == 4, segments[1] == "oauth2", segments[2] == "v2.0" {
            switch segments[3] {
            case "token": return .token
            case "devicecode": return .devicecode
            case "authorize": return .authorize
            default: return .other
            }
        }
        if segments.count == 2, segments[1] == "adminconsent" { return .adminconsent }
        if segments.last?.lowercased() == "exchange.asmx" { return .outlook }
        if World.exchangeAdminTenant(segments) != nil { return .exchangeAdmin }
        if World.managementRoute(segments) != nil { return .management }
        return .other
    }

    private func route(_ request: EmulatorRequest, area: Area, baseURL: String) -> EmulatorResponse {
        state.world.withLock { w -> EmulatorResponse in
            let now = w.now()
            func aad(_ body: (inout World) throws(AADError) -> EmulatorResponse) -> EmulatorResponse {
                do throws(AADError) { return try body(&w) } catch {
                    return error.response(now: now, baseURL: baseURL, correlationID: request.clientRequestID)
                }
            }
            let tenantKey = request.segments.first ?? ""
            switch area {
            case .token:
                guard request.method == "POST" else {
                    return AADError("invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. Received a \(request.method) request.")
                        .response(now: now, baseURL: baseURL, correlationID: request.clientRequestID)
                }
                return aad { w throws(AADError) in try w.handleToken(request, tenantKey: tenantKey, baseURL: baseURL, now: now) }
            case .devicecode:
                guard request.method == "POST" else {
                    return AADError("invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. Received a \(request.method) request.")
                        .response(now: now, baseURL: baseURL, correlationID: request.clientRequestID)
                }
                return aad { w throws(AADError) in try w.handleDeviceCode(request, tenantKey: tenantKey, baseURL: baseURL, now: now) }
            case .authorize:
                return aad { w throws(AADError) in try w.handleAuthorize(request, tenantKey: tenantKey, now: now) }
            case .adminconsent:
                return aad { w throws(AADError) in try w.handleAdminConsent(request, tenantKey: tenantKey) }
            case .graph:
                do throws(GraphError) { return try w.handleGraph(request, baseURL: baseURL, now: now) } catch {
                    return error.response(now: now, clientRequestID: request.clientRequestID)
                }
            case .outlook:
                return w.handleOutlook(request, now: now)
            case .exchangeAdmin:
                return w.handleExchangeAdmin(request, baseURL: baseURL, now: now)
            case .management:
                return w.handleManagement(request, now: now)
            case .other:
                return w.handleOther(request, baseURL: baseURL)
            }
        }
    }

    /// The body a real service sends with the injected status: OAuth JSON for identity, Graph JSON for Graph.
    private func faultResponse(status: Int, retryAfter: Int?, area: Area, request: EmulatorRequest, baseURL: String, now: Double) -> EmulatorResponse {
        var extra: [(String, String)] = []
        if status == 429 || status == 503 { extra.append(("Retry-After", String(retryAfter ?? 2))) }
        switch area {
        case .token, .devicecode, .authorize, .adminconsent:
            var error = status == 503 ? AADError.serviceUnavailable() : AADError.serverError(status: status)
            if status == 429 {
                error = AADError("temporarily_unavailable", 50196, "The server terminated an operation because it encountered a client request loop. Please retry after some time.", status: 429)
            }
            error.status = status
            var r = error.response(now: now, baseURL: baseURL, correlationID: request.clientRequestID)
            r.headers += extra
            return r
        case .exchangeAdmin:
            var r = status == 403
                ? ExchangeAdminError.plain(403, "Forbidden", "The caller is not allowed to run this cmdlet (injected fault).")
                : ExchangeAdminError.plain(status, status == 429 ? "TooManyRequests" : "InternalServerError", "The service encountered an error (injected fault).")
            r.headers += extra
            return r
        case .management:
            var r = World.managementError(status, status == 403 ? "AF10001" : "AF50000", "The service answered \(status) (injected fault).")
            r.headers += extra
            return r
        default:
            let code: String
            switch status {
            case 429: code = "TooManyRequests"
            case 503: code = "serviceNotAvailable"
            case 504: code = "gatewayTimeout"
            default: code = "generalException"
            }
            let message = status == 429 ? "Too many requests." : "The service encountered an error (injected fault)."
            return GraphError(status: status, code: code, message: message, headers: extra)
                .response(now: now, clientRequestID: request.clientRequestID)
        }
    }
}

extension World {
    /// Exchange Web Services stand-in: checks the bearer token is for Exchange Online and answers a tiny SOAP body.
    func handleOutlook(_ request: EmulatorRequest, now: Double) -> EmulatorResponse {
        switch authenticate(request, resource: .outlook, now: now) {
        case .failure(let error):
            return EmulatorResponse(status: 401, headers: error.headers.isEmpty ? [("WWW-Authenticate", "Bearer error=\"invalid_token\"")] : error.headers)
        case .success(let token):
            tenants[token.tenant].count("outlook")
            guard token.permissions.contains(where: { ["full_access_as_app", "EWS.AccessAsUser.All"].contains($0) }) else {
                return EmulatorResponse(status: 403, headers: [("Content-Type", "text/plain")], body: Array("Forbidden".utf8))
            }
            let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><m:ResponseMessages xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\"><m:ResponseCode>NoError</m:ResponseCode></m:ResponseMessages></s:Body></s:Envelope>"
            return EmulatorResponse(status: 200, headers: [("Content-Type", "text/xml; charset=utf-8")], body: Array(xml.utf8))
        }
    }

    /// Discovery document, device login page, error page; anything else is 404.
    func handleOther(_ request: EmulatorRequest, baseURL: String) -> EmulatorResponse {
        let s = request.segments
        if s.count == 4, s[1] == "v2.0", s[2] == ".well-known", s[3] == "openid-configuration" {
            guard let t = tenantIndex(s[0]) else {
                return AADError.tenantNotFound(s[0]).response(now: now(), baseURL: baseURL, correlationID: nil)
            }
            let id = tenants[t].id
            var w = JSONWriter()
            w.raw("{")
            w.key("issuer"); w.string("\(baseURL)/\(id)/v2.0"); w.comma()
            w.key("authorization_endpoint"); w.string("\(baseURL)/\(id)/oauth2/v2.0/authorize"); w.comma()
            w.key("token_endpoint"); w.string("\(baseURL)/\(id)/oauth2/v2.0/token"); w.comma()
            w.key("device_authorization_endpoint"); w.string("\(baseURL)/\(id)/oauth2/v2.0/devicecode"); w.comma()
            w.key("tenant_region_scope"); w.string("EU")
            w.raw("}")
            return .json(200, w)
        }
        if s == ["devicelogin"] {
            let html = "<html><body><h1>Emulated device login</h1><p>Approve codes with POST /_emulator/device-codes/{user_code}/approve.</p></body></html>"
            return EmulatorResponse(status: 200, headers: [("Content-Type", "text/html")], body: Array(html.utf8))
        }
        if s == ["error"] {
            let text = "AADSTS\(request.query["code"] ?? ""): see Microsoft's AADSTS error code reference."
            return EmulatorResponse(status: 200, headers: [("Content-Type", "text/plain")], body: Array(text.utf8))
        }
        return EmulatorResponse(status: 404, headers: [("Content-Type", "application/json")],
                                body: Array("{\"error\":\"not_found\",\"message\":\"No such endpoint in the emulator\"}".utf8))
    }
}

extension M365Emulator.Area {
    /// Whether the tenant of a request is the one of its bearer token (for fault matching and the request log).
    var usesBearer: Bool { self == .graph || self == .outlook || self == .exchangeAdmin || self == .management }
}
