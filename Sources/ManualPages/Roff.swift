import Foundation

/// Text for roff (man(7)): escapes, and the Markdown inline the project's references are written in.
public enum Roff {
    /// Escapes backslashes and hyphens, and protects lines that would start a request.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
            // Non-ASCII as groff's Unicode escapes: the page then renders alike with or without preconv.
            .unicodeScalars.map { $0.isASCII ? String($0) : "\\[u" + String(format: "%04X", $0.value) + "]" }.joined()
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") || $0.hasPrefix("'") ? "\\&" + $0 : String($0) }
            .joined(separator: "\n")
    }

    /// Markdown inline (`` `literal` `` and `**strong**`) to roff: both become bold.
    public static func inline(markdown: String) -> String {
        var out = ""
        var bold = false
        var rest = Substring(markdown)
        while let first = rest.first {
            if first == "`" || rest.hasPrefix("**") {
                out += bold ? "\\fR" : "\\fB"
                bold.toggle()
                rest = rest.dropFirst(first == "`" ? 1 : 2)
            } else {
                let run = rest.prefix { $0 != "`" && $0 != "*" }
                let take = run.isEmpty ? rest.prefix(1) : run
                out += escape(String(take))
                rest = rest.dropFirst(take.count)
            }
        }
        return bold ? out + "\\fR" : out
    }
}
