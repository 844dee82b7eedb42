/// Finds the line of each key in a TOML document.
///
/// TOMLKit reports positions for syntax errors only, so well-formed but wrong
/// keys are located by this scan: it tracks `[table]` and `[[array]]` headers
/// and records `key =` lines as `table.key` (array tables as `array.N.key`).
/// It only needs to agree with the parser on documents the parser accepted.
struct TOMLKeyLocator {
    private(set) var lines: [String: Int] = [:]

    init(text: String) {
        var table = ""
        var arrayCounts: [String: Int] = [:]
        var lineNumber = 0
        var inMultilineString: String?
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingLeadingWhitespace()
            if let delimiter = inMultilineString {
                if line.contains(delimiter) { inMultilineString = nil }
                continue
            }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[[") {
                let name = Self.headerName(line.dropFirst(2))
                let index = arrayCounts[name, default: 0]
                arrayCounts[name] = index + 1
                table = "\(name).\(index)"
                lines[table] = lineNumber
                lines[name] = lines[name] ?? lineNumber
                continue
            }
            if line.hasPrefix("[") {
                table = Self.headerName(line.dropFirst())
                lines[table] = lines[table] ?? lineNumber
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].split(separator: ".").map { Self.unquote($0) }.joined(separator: ".")
            let path = table.isEmpty ? key : "\(table).\(key)"
            lines[path] = lines[path] ?? lineNumber
            let value = line[line.index(after: equals)...].trimmingLeadingWhitespace()
            for delimiter in ["\"\"\"", "'''"] where value.hasPrefix(delimiter) {
                if !value.dropFirst(3).contains(delimiter) { inMultilineString = delimiter }
            }
        }
    }

    /// The line of `path` (e.g. `smtp.port`), or of its closest enclosing table.
    func line(of path: String) -> Int? {
        var candidate = path
        while true {
            if let line = lines[candidate] { return line }
            guard let dot = candidate.lastIndex(of: ".") else { return nil }
            candidate = String(candidate[..<dot])
        }
    }

    private static func headerName(_ text: Substring) -> String {
        let name = text.prefix { $0 != "]" }
        return name.split(separator: ".").map { unquote($0) }.joined(separator: ".")
    }

    private static func unquote(_ text: Substring) -> String {
        var key = text.trimmingLeadingWhitespace()
        while key.last == " " || key.last == "\t" { key = key.dropLast() }
        if key.count >= 2, let first = key.first, first == "\"" || first == "'", key.last == first {
            key = key.dropFirst().dropLast()
        }
        return String(key)
    }
}

extension StringProtocol where SubSequence == Substring {
    fileprivate func trimmingLeadingWhitespace() -> Substring {
        let start = firstIndex { $0 != " " && $0 != "\t" && $0 != "\r" } ?? endIndex
        var end = endIndex
        while end > start, let last = self[..<end].last, last == "\r" { end = index(before: end) }
        return self[start..<end]
    }
}
