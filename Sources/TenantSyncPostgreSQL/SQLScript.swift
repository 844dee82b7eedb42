/// A migration file cut into its statements.
///
/// postgres-nio speaks PostgreSQL's extended query protocol only, which takes one statement per query; a migration
/// file holds many. The cut is at each `;` outside a string (`'…'`), a quoted name (`"…"`), a dollar-quoted body
/// (`$$…$$`, `$tag$…$tag$`) and a comment (`-- …`, `/* … */`); statements holding only comments are dropped.
enum SQLScript {
    static func statements(_ script: String) -> [String] {
        let characters = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var hasCode = false
        var index = 0

        func flush() {
            let text = String(current).trimmingWhitespace
            if hasCode, !text.isEmpty { statements.append(text) }
            current = String.UnicodeScalarView()
            hasCode = false
        }
        func copy(until end: Int) {
            current.append(contentsOf: characters[index..<min(end, characters.count)])
            index = min(end, characters.count)
        }
        func find(_ needle: [Unicode.Scalar], from start: Int) -> Int? {
            guard !needle.isEmpty, characters.count >= needle.count else { return nil }
            var position = start
            while position + needle.count <= characters.count {
                if Array(characters[position..<(position + needle.count)]) == needle { return position }
                position += 1
            }
            return nil
        }

        while index < characters.count {
            let character = characters[index]
            let next: Unicode.Scalar? = index + 1 < characters.count ? characters[index + 1] : nil
            switch character {
            case "-" where next == "-":
                copy(until: (find(["\n"], from: index) ?? characters.count - 1) + 1)
            case "/" where next == "*":
                copy(until: (find(["*", "/"], from: index + 2) ?? characters.count) + 2)
            case "'", "\"":
                hasCode = true
                var end = index + 1
                while end < characters.count {
                    if characters[end] == character {
                        // A doubled quote is the quote itself, inside the string.
                        if end + 1 < characters.count, characters[end + 1] == character { end += 2; continue }
                        break
                    }
                    end += 1
                }
                copy(until: end + 1)
            case "$":
                hasCode = true
                if let tagEnd = dollarTagEnd(characters, from: index) {
                    let tag = Array(characters[index...tagEnd])
                    let close = find(tag, from: tagEnd + 1) ?? characters.count
                    copy(until: close + tag.count)
                } else {
                    copy(until: index + 1)
                }
            case ";":
                index += 1
                flush()
            default:
                if !character.properties.isWhitespace { hasCode = true }
                copy(until: index + 1)
            }
        }
        flush()
        return statements
    }

    /// The index of the `$` closing a dollar-quote tag that opens at `start` (`$$` or `$name$`), if one does.
    private static func dollarTagEnd(_ characters: [Unicode.Scalar], from start: Int) -> Int? {
        var position = start + 1
        while position < characters.count {
            let character = characters[position]
            if character == "$" { return position }
            guard character == "_" || character.properties.isAlphabetic || (position > start + 1 && ("0"..."9").contains(character)) else {
                return nil
            }
            position += 1
        }
        return nil
    }
}

private extension String {
    var trimmingWhitespace: String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
