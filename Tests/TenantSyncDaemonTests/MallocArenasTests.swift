import Testing
import TenantSyncDaemon

/// The daemon limits glibc's malloc arenas at start (the effect on peak RSS is measured by the fleet benchmark).
@Suite("Malloc arenas")
struct MallocArenasTests {
    @Test func theLimitIsSetThroughTheCLibraryUnlessTheEnvironmentNamesItsOwn() {
        #expect(MallocArenas.apply(environment: [:]), "mallopt was not found or refused M_ARENA_MAX")
        #expect(!MallocArenas.apply(environment: ["MALLOC_ARENA_MAX": "8"]), "the operator's MALLOC_ARENA_MAX is overridden")
    }
}
