/// The 64-bit FNV-1a hash, for spreading things stably (a tenant's slot in the daily window, its daily jitter).
///
/// Stable across runs, processes and platforms, unlike `Hasher`, which is seeded at random per process:
/// a tenant keeps its slot over restarts. Not for anything an adversary may choose to collide.
public enum FNV1a {
    /// The 64-bit offset basis: where a plain FNV-1a hash starts.
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    /// The 64-bit FNV prime.
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// The hash of `bytes`, starting from `basis` (the standard offset basis unless a caller mixes in a seed).
    public static func hash(_ bytes: some Sequence<UInt8>, startingAt basis: UInt64 = offsetBasis) -> UInt64 {
        var hash = basis
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* prime
        }
        return hash
    }
}
