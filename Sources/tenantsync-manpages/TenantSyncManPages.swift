import ArgumentParser
import Foundation
import ManualPages

/// Writes tenantsyncd(8), tenantsyncctl(8) and tenantsyncd.toml(5) from the argument parsers
/// of the built binaries and the configuration reference. A build tool: `make man` runs it;
/// it is not installed.
@main
struct TenantSyncManPages: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenantsync-manpages",
        abstract: "Generate the tenantsync man pages from the built binaries and the configuration reference."
    )

    @Option(help: ArgumentHelp("The directory holding the built tenantsyncd and tenantsyncctl.", valueName: "dir"))
    var binDir: String

    @Option(help: ArgumentHelp("Where to write tenantsyncd.8, tenantsyncctl.8 and tenantsyncd.toml.5.", valueName: "dir"))
    var output: String

    @Option(help: ArgumentHelp("The date in the page footers (YYYY-MM-DD), for reproducible pages.", valueName: "date"))
    var date: String

    func run() throws {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let daemonHelp = try Self.capture(binDir + "/tenantsyncd", ["--experimental-dump-help"])
        let daemon = try JSONDecoder().decode(ToolInfo.self, from: daemonHelp)
        try write(DaemonManPage.page(command: daemon.command, date: date).render(), to: "tenantsyncd.8")
        let ctl = try Self.capture(binDir + "/tenantsyncctl", ["generate-manpage", "--date", date])
        try write(String(decoding: ctl, as: UTF8.self), to: "tenantsyncctl.8")
        try write(ConfigurationManPage.render(date: date), to: "tenantsyncd.toml.5")
    }

    private func write(_ page: String, to name: String) throws {
        let text = page.hasSuffix("\n") ? page : page + "\n"
        try text.write(toFile: output + "/" + name, atomically: true, encoding: .utf8)
    }

    /// Runs a built binary and returns its standard output; a failure names the binary and its stderr.
    static func capture(_ executable: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            throw ValidationError("cannot run \(executable): \(error)")
        }
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        let message = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: message, as: UTF8.self))")
        }
        return data
    }
}
