extension Duration {
    /// Parses an operator-written duration such as `90s`, `10m`, `2h`, `1d` or `1h30m`.
    ///
    /// Units: `ms`, `s`, `m`, `h`, `d`. Each part is a whole number followed by a unit;
    /// a bare number is refused so that `10` never silently means seconds.
    public init?(text: String) {
        var total: Duration = .zero
        var digits = ""
        var index = text.startIndex
        var sawPart = false
        while index < text.endIndex {
            let character = text[index]
            if character.isASCII, character.isNumber {
                digits.append(character)
                index = text.index(after: index)
                continue
            }
            guard !digits.isEmpty, let value = Int64(digits) else { return nil }
            var unit = String(character)
            let next = text.index(after: index)
            if character == "m", next < text.endIndex, text[next] == "s" {
                unit = "ms"
                index = text.index(after: next)
            } else {
                index = next
            }
            let part: Duration
            switch unit {
            case "ms": part = .milliseconds(value)
            case "s": part = .seconds(value)
            case "m": part = .seconds(value * 60)
            case "h": part = .seconds(value * 3_600)
            case "d": part = .seconds(value * 86_400)
            default: return nil
            }
            total += part
            digits = ""
            sawPart = true
        }
        guard sawPart, digits.isEmpty else { return nil }
        self = total
    }

    /// The duration in whole seconds, rounded down.
    public var wholeSeconds: Int64 { components.seconds }

    /// The duration as a `Double` number of seconds.
    public var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// A compact operator-facing rendering such as `1h30m` or `90s`.
    public var shortText: String {
        var seconds = components.seconds
        if seconds == 0 {
            let milliseconds = components.attoseconds / 1_000_000_000_000_000
            return "\(milliseconds)ms"
        }
        var text = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where seconds >= size {
            text += "\(seconds / size)\(unit)"
            seconds %= size
        }
        return text
    }
}
