import Foundation
import Logging
import NIOCore
import TenantSyncCore

/// Turns one received message into a handler call and its replies.
struct ControlDispatcher: Sendable {
    let handler: any ControlHandler
    let info: VarlinkServiceInfo
    let controlGroup: String?
    let logger: Logger

    enum Outcome: Equatable {
        case keepOpen
        /// The peer broke the protocol or went away; close only its connection.
        case close
    }

    func handle(
        _ message: ByteBuffer, peer: PeerCredentials?, allowed: Bool, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, timeout: ReplyWriteTimeout
    ) async -> Outcome {
        let bytes = message.readableBytesView
        // Invalid UTF-8 or nesting too deep for any real call: not Varlink, close.
        guard String(validating: bytes, as: UTF8.self) != nil, VarlinkJSON.nestingIsShallow(bytes) else {
            logger.debug("Control message rejected", metadata: ["control.reason": "encoding"])
            return .close
        }
        let data = Data(bytes)
        let decoder = VarlinkJSON.makeDecoder()
        let header: VarlinkCallHeader
        do {
            header = try decoder.decode(VarlinkCallHeader.self, from: data)
        } catch let error as DecodingError {
            guard let parameter = Self.envelopeField(of: error) else {
                logger.debug("Control message rejected", metadata: ["control.reason": "json"])
                return .close
            }
            let writer = VarlinkReplyWriter(outbound: outbound, oneway: false, timeout: timeout)
            return await send(.invalidParameter(parameter), with: writer)
        } catch {
            return .close
        }
        let writer = VarlinkReplyWriter(outbound: outbound, oneway: header.oneway ?? false, timeout: timeout)
        guard allowed, let peer else {
            logger.notice("Control call denied: the peer may not call this method", metadata: ["peer.uid": "\(peer?.uid ?? UInt32.max)", "control.method": "\(header.method)"])
            // The refusal is the last thing a refused peer gets: it may not keep a connection (and a slot) open.
            _ = await send(ControlError.permissionDenied(uid: peer?.uid ?? UInt32.max, group: controlGroup), with: writer)
            return .close
        }
        if header.upgrade == true {
            return await send(.invalidParameter("upgrade"), with: writer)
        }
        guard let dot = header.method.lastIndex(of: "."), dot != header.method.startIndex else {
            return await send(.invalidParameter("method"), with: writer)
        }
        let interface = String(header.method[..<dot])
        let member = String(header.method[header.method.index(after: dot)...])
        var callLogger = logger
        callLogger[metadataKey: "peer.uid"] = "\(peer.uid)"
        callLogger[metadataKey: "peer.pid"] = "\(peer.pid)"
        callLogger[metadataKey: "control.method"] = "\(header.method)"
        let call = Call(
            data: data, member: member, more: header.more ?? false, writer: writer,
            context: ControlContext(peer: peer, method: header.method, logger: callLogger)
        )
        do {
            switch interface {
            case ControlInterface.serviceName:
                try await serveVarlinkService(call)
            case ControlInterface.name:
                try await serveControl(call)
            default:
                throw VarlinkError.interfaceNotFound(interface)
            }
            return .keepOpen
        } catch let error as VarlinkError {
            return await send(error, with: writer)
        } catch let error as TenantSyncError {
            callLogger.info("Control call failed", metadata: ["error.code": "\(error.code)"])
            return await send(ControlError.from(error), with: writer)
        } catch is CancellationError {
            return .close
        } catch let error as ReplyWriteTimeout.Expired {
            callLogger.notice("Control reply timed out; connection closed", metadata: ["control.write_timeout": "\(error.after)"])
            return .close
        } catch let error as IOError {
            // Writing a reply failed: the client went away.
            callLogger.debug("Control reply could not be written", metadata: ["error.errno": "\(error.errnoCode)"])
            return .close
        } catch let error as ChannelError {
            callLogger.debug("Control reply could not be written", metadata: ["error.type": "\(error)"])
            return .close
        } catch {
            callLogger.error("Control call failed with an internal error", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            return await send(ControlError.internalError(), with: writer)
        }
    }

    private func send(_ error: VarlinkError, with writer: VarlinkReplyWriter) async -> Outcome {
        do {
            try await writer.error(error)
            return .keepOpen
        } catch {
            return .close
        }
    }

    /// Which envelope field a decoding error is about; `nil` when the message is not a JSON object at all.
    static func envelopeField(of error: DecodingError) -> String? {
        switch error {
        case .keyNotFound(let key, let context) where context.codingPath.isEmpty:
            return key.stringValue
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return context.codingPath.first.map(\.stringValue)
        default:
            return nil
        }
    }

    /// The parameter a decoding error is about; `depth` is where parameter names sit in the coding path.
    static func parameterName(of error: DecodingError, depth: Int) -> String {
        let path: [CodingKey]
        switch error {
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): path = context.codingPath
        @unknown default: path = []
        }
        guard path.count > depth else { return "parameters" }
        return VarlinkJSON.snakeCase(path[depth].stringValue)
    }
}

extension ControlDispatcher {
    /// One call being served.
    struct Call: Sendable {
        let data: Data
        let member: String
        let more: Bool
        let writer: VarlinkReplyWriter
        let context: ControlContext

        func parameters<P: Decodable>(_ type: P.Type) throws -> P {
            let decoder = VarlinkJSON.makeDecoder()
            do {
                if let parameters = try decoder.decode(VarlinkCallParameters<P>.self, from: data).parameters {
                    return parameters
                }
            } catch let error as DecodingError {
                throw VarlinkError.invalidParameter(ControlDispatcher.parameterName(of: error, depth: 1))
            }
            // No parameters object: decode from an empty one, so a required parameter is named as missing.
            do {
                return try decoder.decode(P.self, from: Data("{}".utf8))
            } catch let error as DecodingError {
                throw VarlinkError.invalidParameter(ControlDispatcher.parameterName(of: error, depth: 0))
            }
        }

        func updates<Value: Encodable & Sendable>(wrapping wrap: @escaping @Sendable (Value) -> some Encodable & Sendable) -> ControlUpdates<Value> {
            let writer = self.writer
            return ControlUpdates(isStreaming: more && !writer.oneway) { value in
                try await writer.reply(wrap(value), continues: true)
            }
        }
    }

    private func serveVarlinkService(_ call: Call) async throws {
        switch call.member {
        case "GetInfo":
            try await call.writer.reply(info)
        case "GetInterfaceDescription":
            let name = try call.parameters(InterfaceParameters.self).interface
            guard let description = ControlInterface.descriptions[name] else { throw VarlinkError.interfaceNotFound(name) }
            try await call.writer.reply(DescriptionReply(description: description))
        default:
            throw VarlinkError.methodNotFound(call.context.method)
        }
    }

    private func serveControl(_ call: Call) async throws {
        let context = call.context
        let writer = call.writer
        switch call.member {
        case "Status":
            try await writer.reply(handler.status(context: context))
        case "ListAccounts":
            let request = try call.parameters(ListAccountsRequest.self)
            try await writer.reply(handler.listAccounts(request, context: context))
        case "GetAccount":
            let parameters = try call.parameters(IDParameters.self)
            try await writer.reply(AccountReply(account: handler.account(id: parameters.id, context: context)))
        case "Provision":
            let request = try call.parameters(ProvisionRequest.self)
            let step = try await handler.provision(request, context: context, updates: call.updates { StepReply(step: $0) })
            try await writer.reply(StepReply(step: step))
        case "ContinueProvisioning":
            let request = try call.parameters(ContinueProvisioningRequest.self)
            let step = try await handler.continueProvisioning(request, context: context, updates: call.updates { StepReply(step: $0) })
            try await writer.reply(StepReply(step: step))
        case "Renew":
            let request = try call.parameters(RenewRequest.self)
            let step = try await handler.renew(request, context: context, updates: call.updates { StepReply(step: $0) })
            try await writer.reply(StepReply(step: step))
        case "UpgradeOutbound":
            let parameters = try call.parameters(IDParameters.self)
            try await writer.reply(StepReply(step: handler.upgradeOutbound(id: parameters.id, context: context)))
        case "GrantActivityData":
            let request = try call.parameters(GrantActivityDataRequest.self)
            let step = try await handler.grantActivityData(request, context: context, updates: call.updates { StepReply(step: $0) })
            try await writer.reply(StepReply(step: step))
        case "Deprovision":
            let parameters = try call.parameters(IDParameters.self)
            try await writer.reply(DeprovisionReply(account: handler.deprovision(id: parameters.id, context: context)))
        case "Sync":
            let request = try call.parameters(SyncRequest.self)
            let progress = try await handler.sync(request, context: context, updates: call.updates { ProgressReply(progress: $0) })
            try await writer.reply(ProgressReply(progress: progress))
        case "ConfirmHeldSync":
            let parameters = try call.parameters(TenantParameters.self)
            try await writer.reply(RunReply(run: handler.confirmHeldSync(tenant: parameters.tenant, context: context)))
        case "DiscardHeldSync":
            let parameters = try call.parameters(TenantParameters.self)
            try await writer.reply(RunReply(run: handler.discardHeldSync(tenant: parameters.tenant, context: context)))
        case "Extend":
            let parameters = try call.parameters(TenantParameters.self)
            let progress = try await handler.extend(tenant: parameters.tenant, context: context, updates: call.updates { $0 })
            try await writer.reply(progress)
        case "ListTargets":
            let parameters = try call.parameters(TenantParameters.self)
            try await writer.reply(handler.listTargets(tenant: parameters.tenant, context: context))
        case "AddTargets":
            let request = try call.parameters(AddTargetsRequest.self)
            try await writer.reply(handler.addTargets(request, context: context))
        case "RemoveTargets":
            let request = try call.parameters(RemoveTargetsRequest.self)
            try await writer.reply(handler.removeTargets(request, context: context))
        case "SearchGroups":
            let parameters = try call.parameters(SearchGroupsParameters.self)
            try await writer.reply(GroupsReply(groups: handler.searchGroups(tenant: parameters.tenant, prefix: parameters.prefix, context: context)))
        case "ListAlerts":
            let request = try call.parameters(ListAlertsRequest.self)
            try await writer.reply(handler.listAlerts(request, context: context))
        case "AcknowledgeAlert":
            let parameters = try call.parameters(IDParameters.self)
            try await writer.reply(AlertReply(alert: handler.acknowledgeAlert(id: parameters.id, context: context)))
        case "Reload":
            try await writer.reply(ReloadReply(changed: handler.reload(context: context)))
        case "GetDirectory":
            let parameters = try call.parameters(TenantParameters.self)
            try await writer.reply(DirectoryReply(directory: handler.directory(tenant: parameters.tenant, context: context)))
        case "GetDirectoryUser":
            let request = try call.parameters(DirectoryUserRequest.self)
            try await writer.reply(DirectoryUserReply(user: handler.directoryUser(request, context: context)))
        case "ListNodes":
            try await writer.reply(NodesReply(nodes: handler.listNodes(context: context)))
        default:
            throw VarlinkError.methodNotFound(context.method)
        }
    }
}
