/// A strict reader of UTF-8 JSON bytes, for the few Graph page shapes a directory sync reads in bulk.
///
/// It exists for speed: `JSONDecoder` builds a generic value tree and walks it through `Codable`,
/// which costs more per object than the sync's SQLite writes. This reader walks the bytes once.
///
/// It never decides what malformed input means. Anything it does not fully understand, or that
/// `JSONDecoder` might read differently (escaped or non-ASCII keys, repeated known keys, lone
/// surrogates, invalid UTF-8, deep nesting, a byte-order mark, trailing bytes), makes it give up
/// with ``Unsupported``; the caller then decodes the same bytes with `JSONDecoder`, which either
/// succeeds or raises its usual error. Giving up is always safe; accepting means "`JSONDecoder`
/// would return exactly this", which the property tests in `GraphPageScannerTests` check.
struct GraphJSONScanner {
    /// The bytes are not something this reader vouches for; decode them with `JSONDecoder`.
    struct Unsupported: Error {}

    /// A member name: where its bytes are (always plain ASCII, no escapes).
    struct Key {
        var start: Int
        var count: Int
    }

    /// Deeper documents are left to `JSONDecoder` (which allows 512 levels).
    static let maximumDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    // MARK: Structure

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    /// The next byte after whitespace, not consumed.
    @inline(__always)
    mutating func peek() throws(Unsupported) -> UInt8 {
        skipWhitespace()
        guard position < bytes.count else { throw Unsupported() }
        return bytes[position]
    }

    @inline(__always)
    private mutating func consume(_ byte: UInt8) throws(Unsupported) {
        guard try peek() == byte else { throw Unsupported() }
        position += 1
    }

    /// Succeeds when only whitespace is left.
    mutating func finish() throws(Unsupported) {
        skipWhitespace()
        guard position == bytes.count else { throw Unsupported() }
    }

    /// Whether `key` is exactly `name` (ASCII).
    @inline(__always)
    func key(_ key: Key, is name: StaticString) -> Bool {
        guard key.count == name.utf8CodeUnitCount else { return false }
        let literal = name.utf8Start
        for offset in 0..<key.count where bytes[key.start + offset] != literal[offset] {
            return false
        }
        return true
    }

    /// Reads one object; `member` is called with each name and must consume that member's value.
    ///
    /// Names with escapes or non-ASCII bytes give up: `JSONDecoder` compares decoded names, and
    /// this reader compares bytes.
    mutating func readObject(_ member: (inout GraphJSONScanner, Key) throws(Unsupported) -> Void) throws(Unsupported) {
        try consume(0x7B)
        if try peek() == 0x7D {
            position += 1
            return
        }
        while true {
            try consume(0x22)
            let start = position
            while true {
                guard position < bytes.count else { throw Unsupported() }
                let byte = bytes[position]
                if byte == 0x22 { break }
                guard byte >= 0x20, byte < 0x80, byte != 0x5C else { throw Unsupported() }
                position += 1
            }
            let key = Key(start: start, count: position - start)
            position += 1
            try consume(0x3A)
            try member(&self, key)
            switch try peek() {
            case 0x2C: position += 1
            case 0x7D:
                position += 1
                return
            default: throw Unsupported()
            }
        }
    }

    /// Reads one array; `element` is called once per element and must consume it.
    mutating func readArray(_ element: (inout GraphJSONScanner) throws(Unsupported) -> Void) throws(Unsupported) {
        try consume(0x5B)
        if try peek() == 0x5D {
            position += 1
            return
        }
        while true {
            try element(&self)
            switch try peek() {
            case 0x2C: position += 1
            case 0x5D:
                position += 1
                return
            default: throw Unsupported()
            }
        }
    }

    // MARK: Values

    /// A string value; `null` gives up (the caller asked for a non-optional string).
    mutating func readString() throws(Unsupported) -> String {
        try consume(0x22)
        let start = position
        var ascii = true
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x22 {
                let text = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
                position += 1
                if ascii { return String(decoding: text, as: UTF8.self) }
                guard let string = String(validating: text, as: UTF8.self) else { throw Unsupported() }
                return string
            }
            if byte == 0x5C {
                position = start
                return try readEscapedString()
            }
            guard byte >= 0x20 else { throw Unsupported() }
            if byte >= 0x80 { ascii = false }
            position += 1
        }
        throw Unsupported()
    }

    /// A string or `null`.
    mutating func readOptionalString() throws(Unsupported) -> String? {
        if try peek() == 0x6E {
            try readLiteral("null")
            return nil
        }
        return try readString()
    }

    /// `true`, `false` or `null`.
    mutating func readOptionalBool() throws(Unsupported) -> Bool? {
        switch try peek() {
        case 0x74:
            try readLiteral("true")
            return true
        case 0x66:
            try readLiteral("false")
            return false
        case 0x6E:
            try readLiteral("null")
            return nil
        default: throw Unsupported()
        }
    }

    /// Whether the next value is `null`; consumes it if so.
    mutating func readNull() throws(Unsupported) -> Bool {
        guard try peek() == 0x6E else { return false }
        try readLiteral("null")
        return true
    }

    /// Skips any one valid JSON value, checking it as strictly as reading it would.
    mutating func skipValue(depth: Int = 0) throws(Unsupported) {
        guard depth < Self.maximumDepth else { throw Unsupported() }
        switch try peek() {
        case 0x22: try skipString()
        case 0x7B: try readObject { scanner, _ throws(Unsupported) in try scanner.skipValue(depth: depth + 1) }
        case 0x5B: try readArray { scanner throws(Unsupported) in try scanner.skipValue(depth: depth + 1) }
        case 0x74: try readLiteral("true")
        case 0x66: try readLiteral("false")
        case 0x6E: try readLiteral("null")
        case 0x2D, 0x30...0x39: try skipNumber()
        default: throw Unsupported()
        }
    }

    // MARK: Pieces

    private mutating func readLiteral(_ literal: StaticString) throws(Unsupported) {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - position >= count else { throw Unsupported() }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[position + offset] != start[offset] {
            throw Unsupported()
        }
        position += count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; what follows is checked by the container.
    private mutating func skipNumber() throws(Unsupported) {
        if bytes[position] == 0x2D { position += 1 }
        guard position < bytes.count else { throw Unsupported() }
        if bytes[position] == 0x30 {
            position += 1
        } else {
            try skipDigits()
        }
        if position < bytes.count, bytes[position] == 0x2E {
            position += 1
            try skipDigits()
        }
        if position < bytes.count, bytes[position] == 0x65 || bytes[position] == 0x45 {
            position += 1
            if position < bytes.count, bytes[position] == 0x2B || bytes[position] == 0x2D { position += 1 }
            try skipDigits()
        }
    }

    /// One or more decimal digits.
    private mutating func skipDigits() throws(Unsupported) {
        let start = position
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
        guard position > start else { throw Unsupported() }
    }

    private mutating func skipString() throws(Unsupported) {
        try consume(0x22)
        let start = position
        var ascii = true
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x22 {
                if !ascii {
                    guard String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self) != nil else {
                        throw Unsupported()
                    }
                }
                position += 1
                return
            }
            if byte == 0x5C {
                position = start
                _ = try readEscapedString()
                return
            }
            guard byte >= 0x20 else { throw Unsupported() }
            if byte >= 0x80 { ascii = false }
            position += 1
        }
        throw Unsupported()
    }

    /// The string whose content starts at `position` (after the opening quote) and holds escapes.
    private mutating func readEscapedString() throws(Unsupported) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(64)
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case 0x22:
                guard let string = String(validating: utf8, as: UTF8.self) else { throw Unsupported() }
                return string
            case 0x5C:
                guard position < bytes.count else { throw Unsupported() }
                let escape = bytes[position]
                position += 1
                switch escape {
                case 0x22, 0x5C, 0x2F: utf8.append(escape)
                case 0x62: utf8.append(0x08)
                case 0x66: utf8.append(0x0C)
                case 0x6E: utf8.append(0x0A)
                case 0x72: utf8.append(0x0D)
                case 0x74: utf8.append(0x09)
                case 0x75:
                    let unit = try readHex4()
                    let scalar: Unicode.Scalar?
                    switch unit {
                    case 0xD800...0xDBFF:
                        // A high surrogate must be followed by an escaped low one; anything else gives up.
                        guard bytes.count - position >= 2, bytes[position] == 0x5C, bytes[position + 1] == 0x75 else { throw Unsupported() }
                        position += 2
                        let low = try readHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw Unsupported() }
                        scalar = Unicode.Scalar(0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00))
                    case 0xDC00...0xDFFF:
                        throw Unsupported()
                    default:
                        scalar = Unicode.Scalar(UInt32(unit))
                    }
                    guard let scalar else { throw Unsupported() }
                    UTF8.encode(scalar) { utf8.append($0) }
                default:
                    throw Unsupported()
                }
            default:
                guard byte >= 0x20 else { throw Unsupported() }
                utf8.append(byte)
            }
        }
        throw Unsupported()
    }

    private mutating func readHex4() throws(Unsupported) -> UInt16 {
        guard bytes.count - position >= 4 else { throw Unsupported() }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: throw Unsupported()
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }
}
