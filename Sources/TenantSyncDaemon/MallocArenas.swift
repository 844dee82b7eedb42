#if canImport(Glibc)
import Glibc
#endif

/// How many malloc arenas glibc may create for the daemon's threads.
///
/// glibc gives a thread that finds the allocator busy an arena of its own, up to eight per core, and memory freed into
/// one arena is reused only by the threads that allocate from it. The daemon's work moves between the concurrency
/// pool's threads and SwiftNIO's, so the large transient buffers of a reply (a page of 10,000 accounts, a fleet's
/// scrape) were left behind in several arenas at once. Measured on the fleet benchmark's 10,000-tenant state, three
/// pages of 10,000 accounts then three scrapes: a peak RSS of 182 MiB with glibc's default, 150 MiB with two arenas.
/// The daemon's allocation rate is low, so two arenas cost it no measurable contention.
public enum MallocArenas {
    /// The arenas allowed unless the environment names its own (`MALLOC_ARENA_MAX`, which glibc reads itself).
    public static let limit: Int32 = 2

    /// Sets the limit, first thing at start (threads created later share the arenas that exist); `false` when the
    /// environment chose its own or the platform has no glibc.
    @discardableResult
    public static func apply(environment: [String: String]) -> Bool {
        #if canImport(Glibc)
        guard environment["MALLOC_ARENA_MAX"] == nil else { return false }
        // Swift's Glibc module does not carry malloc.h's mallopt; it is looked up in the C library (RTLD_DEFAULT).
        guard let symbol = dlsym(nil, "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        return mallopt(Self.arenaMaxParameter, limit) == 1
        #else
        return false
        #endif
    }

    /// glibc's `M_ARENA_MAX` (malloc.h).
    static let arenaMaxParameter: Int32 = -8
}
