#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Where output goes and whether a person is watching.
enum Terminal {
    static var isInteractive: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stdinIsInteractive: Bool { isatty(STDIN_FILENO) == 1 }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("tenantsyncctl: \(TerminalText.body(message))\n".utf8))
    }

    /// Writes without a newline and flushes (progress lines).
    ///
    /// Written as is: the progress bar's own `CR ESC[2K` go through here. Text from the daemon in
    /// `text` must be escaped by the caller (``TerminalText``).
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Asks a yes/no question on the terminal; false on end of input.
    static func confirm(_ question: String) -> Bool {
        write("\(question) [y/N] ")
        guard let answer = readLine() else { return false }
        return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
    }

    static func ask(_ question: String) -> String? {
        write("\(question) ")
        return readLine()?.trimmingCharacters(in: .whitespaces)
    }
}
