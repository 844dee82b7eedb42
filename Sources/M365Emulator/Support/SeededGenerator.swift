/// SplitMix64: a small deterministic generator, so `--seed` reproduces the same tenants.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed &+ 0x9E37_79B9_7F4A_7C15
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A version-4-shaped GUID in Microsoft's lowercase form.
    mutating func guid() -> String {
        let a = next(), b = next()
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for i in 0..<32 {
            let word = i < 16 ? a : b
            var nibble = Int((word >> UInt64((i % 16) * 4)) & 0xF)
            if i == 12 { nibble = 4 }
            if i == 16 { nibble = 8 | (nibble & 0x3) }
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append(UInt8(ascii: "-")) }
            out.append(hex[nibble])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Random material for tokens and codes; never derived from the seed.
enum RandomMaterial {
    static func token(prefix: String, bytes count: Int = 32) -> String {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out = Array(prefix.utf8)
        for _ in 0..<count { out.append(alphabet[Int(rng.next() % 64)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func guid() -> String {
        var system = SystemRandomNumberGenerator()
        var rng = SeededGenerator(seed: system.next())
        return rng.guid()
    }

    /// A user code like Microsoft's: nine characters from an unambiguous alphabet.
    static func userCode() -> String {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789".utf8)
        return String(decoding: (0..<9).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }, as: UTF8.self)
    }
}
