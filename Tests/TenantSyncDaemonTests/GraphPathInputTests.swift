import Foundation
import Logging
import MicrosoftCloud
import TenantSyncCore
import TenantSyncDaemon
import TenantSyncStore
import Testing
import TestSupport

/// Names and ids an operator gives `targets add` end up in Graph paths: they are checked (GUID or
/// UPN) before any request and percent-encoded, so none can point the tenant's token elsewhere.
@Suite("Graph paths built from operator input", .serialized)
struct GraphPathInputTests {
    static let tenantID = "6f1c7a52-0000-4000-8000-0000000b0b0b"

    /// Runs `body` with operations whose Graph is a loopback server answering every user lookup with `upn`.
    static func withOperations(answering upn: String, _ body: (TenantOperations, ScriptedHTTPServer) async throws -> Void) async throws {
        let graph = try ScriptedHTTPServer { _ in
            .json(#"{"id":"0f3c1d2e-4b5a-6978-8a9b-0c1d2e3f4a5b","userPrincipalName":"\#(upn)"}"#)
        }
        defer { graph.stop() }
        try await ContosoStore.with(tenantID: tenantID) { store, http in
            let operations = TenantOperations(
                store: store, graph: GraphClient(graphRoot: graph.origin, http: http, logger: Logger(label: "test")),
                tokens: HostileGraphSyncTests.FixedToken(), coordinator: SyncCoordinator(), logger: Logger(label: "test")
            )
            try await body(operations, graph)
        }
    }

    @Test(arguments: [
        "alice@contoso.com/../../groups",
        "alice@contoso.com?$select=passwordProfile",
        "../servicePrincipals@contoso.com",
        "alice@contoso.com#",
        "alice contoso.com",
        "alice@contoso",
        "\u{1b}[2Jalice@contoso.com",
    ])
    func aUserNameThatIsNotAUPNIsRefusedBeforeAnyGraphCall(name: String) async throws {
        try await Self.withOperations(answering: name) { operations, graph in
            let error = await #expect(throws: TenantSyncError.self, "\(name.debugDescription) must be refused") {
                try await operations.addSelectedTargets(tenant: "contoso.com", userPrincipalNames: ["bob@contoso.com", name], groupIDs: [])
            }
            #expect(error?.code == .invalidArgument, "\(String(describing: error))")
            #expect(error?.message.contains("is not a user principal name") == true)
            #expect(error?.message.contains("\u{1b}") == false, "the refused name is escaped in the message")
            #expect(graph.requests.isEmpty, "Graph was asked: \(graph.requests.map(\.target))")
        }
    }

    @Test(arguments: ["0f3c1d2e-4b5a-6978-8a9b-0c1d2e3f4a5b/../../users", "all", "0f3c1d2e-4b5a-6978-8a9b-0c1d2e3f4a5b?$top=1", ""])
    func aGroupIDThatIsNotAGUIDIsRefusedBeforeAnyGraphCall(groupID: String) async throws {
        try await Self.withOperations(answering: "bob@contoso.com") { operations, graph in
            let error = await #expect(throws: TenantSyncError.self, "\(groupID.debugDescription) must be refused") {
                try await operations.addSelectedTargets(tenant: "contoso.com", userPrincipalNames: ["bob@contoso.com"], groupIDs: [groupID])
            }
            #expect(error?.code == .invalidArgument, "\(String(describing: error))")
            #expect(error?.message.contains("is not a group id") == true)
            #expect(graph.requests.isEmpty, "Graph was asked: \(graph.requests.map(\.target))")
        }
    }

    /// A guest's UPN carries `#EXT#`: valid, and sent percent-encoded so the `#` is not a fragment.
    @Test func aGuestUPNIsAcceptedAndPercentEncodedInThePath() async throws {
        let guest = "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com"
        try await Self.withOperations(answering: guest) { operations, graph in
            let added = try await operations.addSelectedTargets(tenant: "contoso.com", userPrincipalNames: [guest], groupIDs: [])
            #expect(added.map(\.userPrincipalName) == [guest])
            #expect(graph.requests.map(\.target) == ["/v1.0/users/bob_fabrikam.com%23EXT%23@contoso.onmicrosoft.com?$select=id,userPrincipalName"])
        }
    }
}
