import ArgumentParser
import ControlPlane
import TenantSyncCore

struct SyncCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(commandName: "sync", abstract: "Run a manual directory sync of a tenant (all-scope tenants only).")

    @ParentCommand var root: TenantSyncCtl

    @Option(help: ArgumentHelp("The tenant: its id or primary domain.", valueName: "tenant"), completion: CompletionCandidates.tenants)
    var tenant: String

    @Option(help: ArgumentHelp("Only this service; default: the whole tenant.", valueName: "service"))
    var service: String?

    @Flag(help: "Wait for the run to end, showing progress.")
    var wait = false

    @Flag(help: "Read everything again instead of a delta (the stored delta links are not used); the mass-deletion guard still applies.")
    var full = false

    @Flag(help: "Apply the removals of the tenant's sync run held by the mass-deletion guard (no new run).")
    var confirmHeld = false

    @Flag(help: "Drop the removals of the tenant's held sync run; the next sync reads the directory again.")
    var discardHeld = false

    func validate() throws {
        if confirmHeld && discardHeld { throw ValidationError("use either --confirm-held or --discard-held, not both") }
        if (confirmHeld || discardHeld) && (wait || full || service != nil) {
            throw ValidationError("--confirm-held and --discard-held take only --tenant")
        }
        if let service, ServiceKind(argument: service) == nil {
            throw ValidationError("unknown service \(service); use one of \(ServiceKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        if confirmHeld || discardHeld { return try await settleHeldRun() }
        let request = SyncRequest(tenant: tenant, service: service.flatMap(ServiceKind.init(argument:)), full: full ? true : nil)
        try await global.withClient { client in
            let display = ProgressDisplay(json: global.json, interactive: Terminal.isInteractive)
            let last: SyncProgress
            if wait {
                last = try await client.sync(request) { display.update($0) }
            } else {
                last = try await client.sync(request)
            }
            try display.finish(last, waited: wait)
        }
    }
}

extension SyncCommand {
    /// Confirms or discards the held run and prints what happened.
    func settleHeldRun() async throws {
        try await global.withClient { client in
            let run = confirmHeld ? try await client.confirmHeldSync(tenant: tenant) : try await client.discardHeldSync(tenant: tenant)
            if global.json { return print(try ControlJSON.encode(run)) }
            if confirmHeld {
                print("Held sync run \(run.id) confirmed: removed \(run.usersRemoved) users and \(run.groupsRemoved) groups.")
            } else {
                print("Held sync run \(run.id) discarded: nothing removed. The next sync reads the directory again and holds again if the users are still gone.")
            }
        }
    }
}

struct ExtendCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(commandName: "extend", abstract: "Extend protection of a tenant to all targets and resync.")

    @ParentCommand var root: TenantSyncCtl

    @Option(help: ArgumentHelp("The tenant: its id or primary domain.", valueName: "tenant"), completion: CompletionCandidates.tenants)
    var tenant: String

    @Flag(help: "Wait for the resync to end, showing progress.")
    var wait = false

    func run() async throws {
        try await global.withClient { client in
            let display = ProgressDisplay(json: global.json, interactive: Terminal.isInteractive)
            let last: ExtendProgress
            if wait {
                last = try await client.extend(tenant: tenant) { display.update($0.progress) }
            } else {
                last = try await client.extend(tenant: tenant)
            }
            if global.json {
                // The whole reply, so scripts see which services were switched.
                print(try ControlJSON.encode(last, pretty: !wait))
                try ProgressDisplay.checkOutcome(last.progress.run)
                return
            }
            let switched = last.switched.map(\.rawValue).joined(separator: ", ")
            print(switched.isEmpty ? "No service was on a selected scope." : "Switched to all targets: \(switched)")
            try display.finish(last.progress, waited: wait)
        }
    }
}

/// Shows sync progress: a redrawn bar on a terminal, one line per update otherwise, JSON lines with --json.
final class ProgressDisplay {
    let json: Bool
    let interactive: Bool
    private var frame = 0
    private var drewBar = false

    init(json: Bool, interactive: Bool) {
        self.json = json
        self.interactive = interactive
    }

    func update(_ progress: SyncProgress) {
        if json {
            if let line = try? ControlJSON.encode(progress, pretty: false) { print(line) }
            return
        }
        if interactive {
            // The page count has no known total, so the bar is a moving marker with the counts beside it.
            let width = 20
            let position = frame % width
            frame += 1
            let bar = String(repeating: "=", count: position) + ">" + String(repeating: " ", count: width - position - 1)
            Terminal.write("\r\u{1B}[2K[\(bar)] \(Self.counts(progress.run))")
            drewBar = true
        } else {
            print(Self.counts(progress.run) + (progress.message.map { " (\($0))" } ?? ""))
        }
    }

    func finish(_ progress: SyncProgress, waited: Bool) throws {
        if drewBar { Terminal.write("\r\u{1B}[2K") }
        let run = progress.run
        if json {
            print(try ControlJSON.encode(progress, pretty: !waited))
        } else if waited || progress.done {
            print("Sync run \(run.id) \(run.state.rawValue): \(Self.counts(run)) (\(run.mode.rawValue))\(run.error.map { " — \($0)" } ?? "")")
        } else {
            print("Sync run \(run.id) started (\(run.mode.rawValue)); follow it with --wait or `tenantsyncctl account`.")
        }
        try Self.checkOutcome(run)
    }

    /// A failed or held run ends the command with exit code 75.
    static func checkOutcome(_ run: SyncRunInfo) throws {
        if run.state == .failed || run.state == .held {
            throw CtlError(message: "sync run \(run.id) \(run.state.rawValue)\(run.error.map { ": \($0)" } ?? "")", exitCode: CtlExitStatus.temporaryFailure)
        }
    }

    static func counts(_ run: SyncRunInfo) -> String {
        "page \(run.pages): users +\(run.usersAdded) ~\(run.usersChanged) -\(run.usersRemoved), groups +\(run.groupsAdded) ~\(run.groupsChanged) -\(run.groupsRemoved)"
    }
}
