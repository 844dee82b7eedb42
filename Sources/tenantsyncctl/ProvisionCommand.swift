import ArgumentParser
import ControlPlane
import Credentials
import Foundation
import TenantSyncCore

/// Options for the customer's own app (Teams Chat), shared by provision and renew.
struct AppOptions: ParsableArguments {
    @Option(name: .customLong("app-id"), help: ArgumentHelp("The customer's own Entra application id (Teams Chat).", valueName: "id"))
    var appID: String?

    @Option(name: .customLong("secret-file"), help: ArgumentHelp("File holding that application's client secret.", valueName: "file"))
    var secretFile: String?

    @Option(name: .customLong("certificate-file"), help: ArgumentHelp("PEM certificate of that application (instead of --secret-file); its expiry is read from it.", valueName: "file"))
    var certificateFile: String?

    @Option(name: .customLong("key-file"), help: ArgumentHelp("PEM private key of that certificate; must be readable by its owner only (chmod 600).", valueName: "file"))
    var keyFile: String?

    @Option(name: .customLong("secret-expires"), help: ArgumentHelp("When that secret expires (as Entra shows it), for the credential-expiring alerts 30, 7 and 1 days ahead.", valueName: "YYYY-MM-DD"))
    var secretExpires: String?

    @Option(name: .customLong("licensing-model"), help: ArgumentHelp("Teams Chat licensing model: A, B or evaluation.", valueName: "A|B|evaluation"))
    var licensingModel: String?

    @Flag(name: .customLong("device-code"), help: "Consent with the device-code flow (URL and code to enter on any device) instead of the default: a sign-in URL whose redirect returns to the daemon's loopback listener (authorization code with PKCE).")
    var deviceCode = false

    func validate() throws {
        if secretFile != nil, certificateFile != nil || keyFile != nil {
            throw ValidationError("--secret-file and --certificate-file/--key-file are alternatives: the app authenticates with a secret or with a certificate")
        }
        if (certificateFile == nil) != (keyFile == nil) {
            throw ValidationError("--certificate-file and --key-file go together")
        }
        if (appID == nil) != (secretFile == nil && certificateFile == nil) {
            throw ValidationError("--app-id goes with --secret-file, or with --certificate-file and --key-file")
        }
        if secretExpires != nil, secretFile == nil {
            throw ValidationError("--secret-expires goes with --secret-file")
        }
        if let secretExpires, Self.date(secretExpires) == nil {
            throw ValidationError("--secret-expires must be a date written like 2027-06-30, not \(secretExpires)")
        }
        if let licensingModel, LicensingModel(argument: licensingModel) == nil {
            throw ValidationError("--licensing-model must be A, B or evaluation, not \(licensingModel)")
        }
    }

    var consentFlow: ConsentFlow { deviceCode ? .deviceCode : .authCode }
    var model: LicensingModel? { licensingModel.flatMap(LicensingModel.init(argument:)) }

    /// The largest key file read: a PEM RSA key of 8192 bits is about 6.5 KB.
    static let maximumKeyFileBytes = 64 * 1024

    /// Reads the secret file, or the certificate and key files; the secret and the key are never printed.
    func credentials() throws -> AppCredentials? {
        if let appID, let certificateFile, let keyFile {
            return try certificateCredentials(appID: appID, certificateFile: certificateFile, keyFile: keyFile)
        }
        guard let appID, let secretFile else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: secretFile, encoding: .utf8)
        } catch {
            throw CtlError(message: "cannot read the secret file \(secretFile)", exitCode: CtlExitStatus.noInput)
        }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else { throw CtlError(message: "the secret file \(secretFile) is empty", exitCode: CtlExitStatus.dataError) }
        return AppCredentials(appID: appID, clientSecret: Secret(secret), secretExpiresAt: secretExpires.flatMap(Self.date))
    }

    /// The key file is refused if group or others could read it, as the daemon refuses its own key files; whether the
    /// key belongs to the certificate is the daemon's check (it answers with a clear error and stores nothing).
    private func certificateCredentials(appID: String, certificateFile: String, keyFile: String) throws -> AppCredentials {
        guard let certificate = FileManager.default.contents(atPath: certificateFile) else {
            throw CtlError(message: "cannot read the certificate file \(certificateFile)", exitCode: CtlExitStatus.noInput)
        }
        let key: Data
        do {
            key = try PrivateFile.read(path: keyFile, what: "key file", requirePrivate: true, maximumBytes: Self.maximumKeyFileBytes)
        } catch {
            throw CtlError(message: error.message, exitCode: error.code == .missing || error.code == .unreadable ? CtlExitStatus.noInput : CtlExitStatus.dataError)
        }
        return AppCredentials(appID: appID, certificate: String(decoding: certificate, as: UTF8.self), privateKey: Secret(String(decoding: key, as: UTF8.self)))
    }

    /// `YYYY-MM-DD` as the start of that day in UTC.
    static func date(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.isLenient = false
        guard let date = formatter.date(from: text), formatter.string(from: date) == text else { return nil }
        return date
    }
}

struct ProvisionCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Grant access to a Microsoft 365 service for a tenant.",
        discussion: """
            Walks through the consent steps the daemon reports: prints the verification URL and code \
            (or the sign-in URL), the SharePoint app principal to grant (OneDrive), and asks for the \
            sync scope when not given. Without a terminal, every input must be given as options.
            """
    )

    @ParentCommand var root: TenantSyncCtl

    @Argument(help: ArgumentHelp("The service: \(ServiceKind.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "service"))
    var service: String

    @Option(help: ArgumentHelp("The tenant: its id or primary domain.", valueName: "domain-or-id"), completion: CompletionCandidates.tenants)
    var tenant: String

    @OptionGroup var app: AppOptions

    @Option(help: ArgumentHelp("The sync scope: all or selected.", valueName: "all|selected"))
    var scope: String?

    @Option(name: .customLong("user"), parsing: .upToNextOption, help: ArgumentHelp("Selected scope: users by exact user principal name.", valueName: "upn"))
    var users: [String] = []

    @Option(name: .customLong("group-prefix"), parsing: .upToNextOption, help: ArgumentHelp("Selected scope: add the members of groups whose name starts with this (at least 3 characters).", valueName: "prefix"))
    var groupPrefixes: [String] = []

    @Flag(name: .customLong("confirm-app-principal"), help: "Confirm that the SharePoint app principal was granted (OneDrive), without asking.")
    var confirmAppPrincipal = false

    @Option(help: ArgumentHelp("Exchange Online (Inline Mode): the policy to enable when the grant is complete (default \"\(InlineMailFlowDefaults.policy)\").", valueName: "name"))
    var policy: String?

    @Option(help: ArgumentHelp("Exchange Online (Inline Mode): protect inbound messages only, or both inbound and outbound (default both).", valueName: "inbound|both"))
    var direction: String?

    func validate() throws {
        guard ServiceKind(argument: service) != nil else {
            throw ValidationError("unknown service \(service); use one of \(ServiceKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let scope, SyncScope(rawValue: scope) == nil { throw ValidationError("--scope must be all or selected") }
        if let direction, InlineDirection(rawValue: direction) == nil { throw ValidationError("--direction must be inbound or both") }
        if policy != nil || direction != nil, ServiceKind(argument: service) != .exchangeOnlineInline {
            throw ValidationError("--policy and --direction belong to exchange-online-inline")
        }
        if scope != "selected", !(users.isEmpty && groupPrefixes.isEmpty) {
            throw ValidationError("--user and --group-prefix need --scope selected")
        }
        if scope == "selected", users.isEmpty, groupPrefixes.isEmpty {
            throw ValidationError("--scope selected needs at least one --user or --group-prefix")
        }
    }

    var scopeChoice: ScopeChoice? {
        guard let scope, let kind = SyncScope(rawValue: scope) else { return nil }
        return ScopeChoice(scope: kind, users: users.isEmpty ? nil : users, groupPrefixes: groupPrefixes.isEmpty ? nil : groupPrefixes)
    }

    func run() async throws {
        let printer = StepPrinter(json: global.json)
        try await global.withClient { client in
            let credentials = try app.credentials()
            let request = ProvisionRequest(
                service: ServiceKind(argument: service)!, tenant: tenant, consentFlow: app.consentFlow, app: credentials,
                licensingModel: app.model, scope: scopeChoice, policy: policy, direction: direction.flatMap(InlineDirection.init(rawValue:))
            )
            var step = try await client.provision(request) { printer.show($0) }
            printer.show(step)
            step = try await StepDriver(
                client: client, printer: printer, scope: scopeChoice, credentials: credentials, confirmAppPrincipal: confirmAppPrincipal,
                consentFlow: app.consentFlow
            ).drive(from: step)
            try printer.finish(step)
        }
    }
}

struct UpgradeOutboundCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade-outbound",
        abstract: "Upgrade an inbound-only Exchange Online (Inline Mode) account to inbound and outbound protection."
    )

    @ParentCommand var root: TenantSyncCtl

    @Argument(help: "The account id.", completion: CompletionCandidates.accountIDs)
    var id: Int64

    func run() async throws {
        let printer = StepPrinter(json: global.json)
        try await global.withClient { client in
            let step = try await client.upgradeOutbound(id: id)
            printer.show(step)
            try printer.finish(step)
        }
    }
}

struct GrantActivityDataCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "grant-activity-data",
        abstract: "Grant an Exchange Online (Inline Mode) account the permission to read the organization's activity data.",
        discussion: "One more consent (Office 365 Management Activity API, ActivityFeed.Read), verified before it is stored; a declined consent leaves the account unchanged."
    )

    @ParentCommand var root: TenantSyncCtl

    @Argument(help: "The account id.", completion: CompletionCandidates.accountIDs)
    var id: Int64

    @Flag(name: .customLong("device-code"), help: "Consent with the device-code flow instead of a sign-in URL redirected to the daemon's loopback listener.")
    var deviceCode = false

    func run() async throws {
        let printer = StepPrinter(json: global.json)
        try await global.withClient { client in
            let request = GrantActivityDataRequest(id: id, consentFlow: deviceCode ? .deviceCode : .authCode)
            let step = try await client.grantActivityData(request) { printer.show($0) }
            printer.show(step)
            try printer.finish(step)
        }
    }
}

struct RenewCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(commandName: "renew", abstract: "Create a new access token for an account (re-consent or new app secret) and clear its incidents.")

    @ParentCommand var root: TenantSyncCtl

    @Argument(help: "The account id.", completion: CompletionCandidates.accountIDs)
    var id: Int64

    @OptionGroup var app: AppOptions

    func run() async throws {
        let printer = StepPrinter(json: global.json)
        try await global.withClient { client in
            let credentials = try app.credentials()
            var step = try await client.renew(RenewRequest(id: id, consentFlow: app.consentFlow, app: credentials, licensingModel: app.model)) { printer.show($0) }
            printer.show(step)
            step = try await StepDriver(
                client: client, printer: printer, scope: nil, credentials: credentials, confirmAppPrincipal: false, consentFlow: app.consentFlow
            ).drive(from: step)
            try printer.finish(step)
        }
    }
}

/// Answers the steps that need input, from options or by asking on the terminal.
struct StepDriver {
    let client: ControlClient
    let printer: StepPrinter
    let scope: ScopeChoice?
    let credentials: AppCredentials?
    let confirmAppPrincipal: Bool
    let consentFlow: ConsentFlow

    func drive(from first: ProvisionStep) async throws -> ProvisionStep {
        var step = first
        var rounds = 0
        while !step.isFinal {
            rounds += 1
            guard rounds <= 20 else { throw CtlError(message: "provisioning did not advance; see `tenantsyncctl account \(step.accountID)`", exitCode: CtlExitStatus.temporaryFailure) }
            var request = ContinueProvisioningRequest(accountID: step.accountID, consentFlow: consentFlow)
            if step.needsInput {
                switch step.step {
                case .confirmAppPrincipal:
                    guard confirmAppPrincipal || (Terminal.stdinIsInteractive && Terminal.confirm("Granted the app principal above?")) else {
                        throw CtlError(message: "the app principal must be granted and confirmed (--confirm-app-principal)", exitCode: CtlExitStatus.usage)
                    }
                    request.confirmAppPrincipal = true
                case .chooseScope:
                    request.scope = try scope ?? askScope()
                case .appCredentials:
                    guard let credentials else { throw CtlError(message: "this step needs --app-id and --secret-file", exitCode: CtlExitStatus.usage) }
                    request.app = credentials
                default:
                    break
                }
            }
            let next = try await client.continueProvisioning(request) { printer.show($0) }
            printer.show(next)
            step = next
        }
        return step
    }

    private func askScope() throws -> ScopeChoice {
        guard Terminal.stdinIsInteractive else { throw CtlError(message: "this step needs --scope all|selected", exitCode: CtlExitStatus.usage) }
        let answer = Terminal.ask("Sync scope (all/selected):") ?? ""
        guard let scope = SyncScope(rawValue: answer) else { throw CtlError(message: "scope must be all or selected", exitCode: CtlExitStatus.usage) }
        guard scope == .selected else { return ScopeChoice(scope: .all) }
        let users = (Terminal.ask("User principal names (space-separated):") ?? "").split(separator: " ").map(String.init)
        return ScopeChoice(scope: .selected, users: users)
    }
}

/// Prints provisioning steps for a person or as JSON lines.
struct StepPrinter {
    let json: Bool

    func show(_ step: ProvisionStep) {
        if json {
            if let line = try? ControlJSON.encode(step, pretty: false) { print(line) }
            fflush(nil)
            return
        }
        print("[\(step.step.rawValue)] \(step.message)")
        if let consent = step.consent {
            if let uri = consent.verificationURI, let code = consent.userCode {
                print("  Open \(uri) and enter the code \(code)")
            }
            if let url = consent.authorizationURL {
                print("  Open \(url)")
                if let message = consent.message { print("  \(message)") }
            }
            if let expiry = consent.expiresAt { print("  (the \(consent.grant) consent expires at \(Show.time(expiry)))") }
        }
        if let principal = step.appPrincipal {
            print("  App Id: \(principal.appID)")
            print("  Permission request XML:")
            print(indent(indent(principal.permissionXML)))
        }
        if let error = step.error { print("  Error: \(error)") }
        // Whoever reads a pipe (a script, a test playing the administrator) needs the URL while the CLI waits;
        // fflush(nil) flushes stdout without naming the C global Swift 6 treats as shared mutable state.
        fflush(nil)
    }

    func finish(_ step: ProvisionStep) throws {
        if step.step == .failed {
            throw CtlError(message: step.error ?? "provisioning failed", exitCode: CtlExitStatus.dataError)
        }
    }
}
