/// One tenant's Exchange Online mail-flow configuration: connectors and transport rules, in creation order.
///
/// Each object is the property bag `Get-*` returns (`Identity`, `Name`, `Guid`, …); names are unique per
/// kind, case-insensitively, as Exchange enforces.
struct ExchangeOrganization {
    var inboundConnectors: [[String: ExchangeValue]] = []
    var outboundConnectors: [[String: ExchangeValue]] = []
    var transportRules: [[String: ExchangeValue]] = []

    enum Kind: CaseIterable {
        case inboundConnector, outboundConnector, transportRule

        /// The noun of its cmdlets (`New-InboundConnector`, …).
        var noun: String {
            switch self {
            case .inboundConnector: "InboundConnector"
            case .outboundConnector: "OutboundConnector"
            case .transportRule: "TransportRule"
            }
        }
    }

    subscript(kind: Kind) -> [[String: ExchangeValue]] {
        get {
            switch kind {
            case .inboundConnector: inboundConnectors
            case .outboundConnector: outboundConnectors
            case .transportRule: transportRules
            }
        }
        set {
            switch kind {
            case .inboundConnector: inboundConnectors = newValue
            case .outboundConnector: outboundConnectors = newValue
            case .transportRule: transportRules = newValue
            }
        }
    }

    /// The index of the object whose `Identity`, `Name` or `Guid` is `identity`.
    func index(of kind: Kind, identity: String) -> Int? {
        self[kind].firstIndex { object in
            ["Identity", "Name", "Guid"].contains { object[$0]?.text?.lowercased() == identity.lowercased() }
        }
    }

    var publicView: ExchangeConfiguration {
        ExchangeConfiguration(inboundConnectors: inboundConnectors, outboundConnectors: outboundConnectors, transportRules: transportRules)
    }
}

/// A tenant's Exchange Online mail flow as `GET /_emulator/tenants/{t}/exchange` lists it.
public struct ExchangeConfiguration: Sendable, Codable, Equatable {
    public var inboundConnectors: [[String: ExchangeValue]]
    public var outboundConnectors: [[String: ExchangeValue]]
    public var transportRules: [[String: ExchangeValue]]
}
