/// Text from the daemon made safe to write to a terminal.
///
/// Display names, alert subjects and error messages come from Microsoft 365 directories and
/// from other people: a group named `ESC[2J…` would clear the operator's screen, an OSC sequence
/// could retitle the window or plant a link, a newline in a name could forge a line of output.
/// Control characters (C0, DEL, C1) and the bidirectional overrides are written as JSON-style
/// `\uXXXX` escapes, so `--json` output stays valid JSON that decodes to the original text.
enum TerminalText {
    /// For text whose lines are meant (a multi-line body, a rendered table): keeps newlines.
    static func body(_ text: String) -> String {
        escape(text, keepingNewlines: true)
    }

    /// For one value inside a line (a name, a subject): escapes newlines too.
    static func line(_ text: String) -> String {
        escape(text, keepingNewlines: false)
    }

    private static func escape(_ text: String, keepingNewlines: Bool) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepingNewlines: keepingNewlines) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if needsEscape(scalar, keepingNewlines: keepingNewlines) {
                let hex = String(scalar.value, radix: 16)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    private static func needsEscape(_ scalar: Unicode.Scalar, keepingNewlines: Bool) -> Bool {
        switch scalar.value {
        case 0x0A: !keepingNewlines
        case 0x00...0x1F, 0x7F...0x9F: true
        // Bidirectional embeddings, overrides and isolates: they reorder what the operator reads.
        case 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}

/// Every `print` of tenantsyncctl: nothing reaches the terminal unescaped (JSON included; see ``TerminalText``).
func print(_ text: String) {
    Swift.print(TerminalText.body(text))
}
