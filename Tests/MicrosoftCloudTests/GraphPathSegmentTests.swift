import Testing
import TenantSyncCore
@testable import MicrosoftCloud

struct GraphPathSegmentTests {
    @Test(arguments: ["0f3c1d2e-4b5a-6978-8a9b-0c1d2e3f4a5b", "0F3C1D2E-4B5A-6978-8A9B-0C1D2E3F4A5B"])
    func guidsAreGroupIDs(id: String) throws {
        #expect(try GraphPathSegment.groupID(id) == id)
        #expect(try GraphPathSegment.userKey(id) == id)
    }

    @Test(arguments: ["0f3c1d2e-4b5a-6978-8a9b-0c1d2e3f4a5", "0f3c1d2e-4b5a-6978-8a9b-0c1d2e3f4a5g", "0f3c1d2e4b5a69788a9b0c1d2e3f4a5b0000", "../x"])
    func anythingElseIsNotAGroupID(id: String) {
        #expect(throws: TenantSyncError.self) { try GraphPathSegment.groupID(id) }
    }

    @Test func userPrincipalNamesArePercentEncodedSegments() throws {
        #expect(try GraphPathSegment.userKey("o'brien@contoso.com") == "o'brien@contoso.com")
        #expect(try GraphPathSegment.userKey("a^b~c!d#EXT#@contoso.onmicrosoft.com") == "a%5Eb~c!d%23EXT%23@contoso.onmicrosoft.com")
        for bad in ["a/b@contoso.com", "a@contoso.com/..", "a%2F@contoso.com", "a@@contoso.com", "@contoso.com", "a@", "a@.com", "ä@contoso.com"] {
            #expect(throws: TenantSyncError.self, "\(bad)") { try GraphPathSegment.userKey(bad) }
        }
    }
}
