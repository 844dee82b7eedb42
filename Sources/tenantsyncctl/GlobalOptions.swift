import ArgumentParser
import ControlPlane
import Foundation

/// Options every subcommand shares; given before the subcommand.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The daemon's control socket (default: $TENANTSYNC_SOCKET or /run/tenantsync/control).", valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print JSON (the interface's own shape) instead of tables.")
    var json = false

    var socketPath: String {
        socket ?? ControlClient.defaultSocketPath(environment: ProcessInfo.processInfo.environment)
    }

    /// Connects, runs `body`, and turns failures into a message on stderr and a sysexits code.
    func withClient(_ body: (ControlClient) async throws -> Void) async throws {
        do {
            try await ControlClient.withConnection(to: socketPath, body)
        } catch let exit as ExitCode {
            throw exit
        } catch let error as ValidationError {
            throw error
        } catch {
            Terminal.printError(CtlExitStatus.message(for: error))
            throw ExitCode(CtlExitStatus.code(for: error))
        }
    }
}

/// The root command's shared options, reachable from every subcommand.
protocol ControlSubcommand {
    var root: TenantSyncCtl { get }
}

extension ControlSubcommand {
    var global: GlobalOptions { root.global }
}
