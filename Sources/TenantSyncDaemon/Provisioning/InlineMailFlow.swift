import Foundation
import TenantSyncCore

/// The Exchange Online objects Inline Mode creates, by name: looked up before they are created, so a retry never duplicates them.
struct InlineMailFlow: Sendable, Equatable {
    /// Accepts mail the product relays back to Exchange Online (inbound protection).
    static let inboundConnector = "tenantsync Inline Protection (inbound)"
    /// Routes outgoing mail through the product (outbound protection).
    static let outboundConnector = "tenantsync Inline Protection (outbound)"
    /// The product's relay, the smart host and TLS certificate name of the connectors.
    static let relayHost = "inline-relay.tenantsync.net"
    /// The header the transport rule stamps with the policy name.
    static let policyHeader = "X-TenantSync-Inline-Policy"
    /// Exchange's limit on object names; the rule's name includes the policy.
    static let maximumPolicyLength = 48

    let policy: String

    /// The transport rule that routes inbound mail through the product, named after the policy.
    var transportRule: String { "tenantsync Inline Protection - \(policy)" }

    /// Checks an operator-given policy name: printable, not empty, short enough for an Exchange object name.
    static func validatedPolicy(_ given: String?) throws -> String? {
        guard let given else { return nil }
        let policy = given.trimmingCharacters(in: .whitespaces)
        guard !policy.isEmpty, policy.count <= maximumPolicyLength,
              policy.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) && !"\\\"|<>".unicodeScalars.contains($0) })
        else {
            throw TenantSyncError(
                .invalidArgument,
                "The policy name must be 1 to \(maximumPolicyLength) printable characters without \\ \" | < > (it names an Exchange transport rule).",
                context: ["argument": "policy"]
            )
        }
        return policy
    }
}
