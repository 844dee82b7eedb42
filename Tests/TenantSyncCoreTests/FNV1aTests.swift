import Testing
import TenantSyncCore

/// The one stable hash of the code base, checked against the published FNV-1a 64-bit test vectors
/// (and the values computed independently for the strings the schedule hashes), so that a change
/// that would move every tenant's daily slot cannot pass unnoticed.
@Suite("FNV-1a")
struct FNV1aTests {
    @Test("Known 64-bit FNV-1a vectors", arguments: [
        ("", 0xcbf2_9ce4_8422_2325 as UInt64),
        ("a", 0xaf63_dc4c_8601_ec8c),
        ("foobar", 0x8594_4171_f739_67e8),
        ("72f988bf-86f1-41af-91ab-2d7cd011db47", 0x587a_9f4f_0c3b_d4ea),
    ])
    func knownVectors(text: String, expected: UInt64) {
        #expect(FNV1a.hash(text.utf8) == expected, "FNV-1a(\"\(text)\")")
    }

    @Test("A seeded hash starts from the seed instead of the offset basis")
    func seededHash() {
        #expect(FNV1a.hash("a".utf8, startingAt: 0x9E37_79B9_7F4A_7C15) == 0x22c0_4a33_4b91_791c)
        #expect(FNV1a.hash([UInt8](), startingAt: 42) == 42)
    }

    @Test("A tenant's daily slot is the FNV-1a hash of its id modulo the window")
    func dailySlotUsesTheSharedHash() {
        let schedule = DailySyncSchedule(windowStartMinutes: 120, windowLength: .seconds(4 * 3600))
        #expect(schedule.offset(tenantID: "72F988BF-86F1-41AF-91AB-2D7CD011DB47") == .seconds(11_690))
    }
}
