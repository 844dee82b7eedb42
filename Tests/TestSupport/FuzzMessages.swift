import Foundation

/// Hostile control-socket messages: random bytes, truncated and wrongly typed calls, deep nesting, invalid UTF-8.
public enum FuzzMessages {
    static let methods = [
        "io.tenantsync.Control.Status", "io.tenantsync.Control.GetAccount", "io.tenantsync.Control.ListAccounts",
        "io.tenantsync.Control.Sync", "io.tenantsync.Control.Provision", "io.tenantsync.Control.AddTargets",
        "io.tenantsync.Control.SearchGroups", "io.tenantsync.Control.AcknowledgeAlert", "org.varlink.service.GetInfo",
        "org.varlink.service.GetInterfaceDescription", "io.tenantsync.Control.Nope", "no.such.Interface.Call", "", ".", "x.",
    ]
    static let values = [
        "null", "true", "false", "0", "-1", "9223372036854775808", "1e308", "-0.5", "\"\"", "\"contoso.example\"",
        "\"exchange-online\"", "\"Sal\"", "[]", "[1,\"a\",null]", "{}", "{\"scope\":\"all\"}", "\"\\u0000\"", "\"\\ud800\"",
        "{\"app_id\":1,\"client_secret\":[]}", "[[[[[[]]]]]]",
    ]
    static let keys = ["id", "tenant", "service", "prefix", "users", "groups", "interface", "app", "scope", "consent_flow", "licensing_model", "all", "limit"]

    /// One hostile message (without its NUL terminator, which the caller adds).
    public static func make(_ index: Int, using rng: inout SplitMix64) -> [UInt8] {
        switch index % 8 {
        case 0: // random bytes
            return (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 1...255, using: &rng) }
        case 1: // truncated valid call
            let call = Array(validCall(using: &rng).utf8)
            return Array(call.prefix(Int.random(in: 0..<max(call.count, 1), using: &rng)))
        case 2, 3: // wrongly typed parameters
            return Array(validCall(using: &rng).utf8)
        case 4: // envelope fields of the wrong type
            let field = ["method", "more", "oneway", "upgrade", "parameters"].randomElement(using: &rng)!
            // `oneway: true` is a valid call that gets no reply; everything else gets one.
            let value = values.filter { field != "oneway" || $0 != "true" }.randomElement(using: &rng)!
            return Array("{\"method\":\"io.tenantsync.Control.Status\",\"\(field)\":\(value)}".utf8)
        case 5: // deep nesting
            let depth = Int.random(in: 50...5000, using: &rng)
            return Array(("{\"method\":\"org.varlink.service.GetInfo\",\"parameters\":{\"x\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}}").utf8)
        case 6: // invalid UTF-8 inside a string
            var bytes = Array("{\"method\":\"io.tenantsync.Control.GetAccount\",\"parameters\":{\"tenant\":\"".utf8)
            bytes += [0xC3, 0x28, 0xFF, 0xED, 0xA0, 0x80]
            bytes += Array("\"}}".utf8)
            return bytes
        default: // JSON that is not an object, or an object that is not a call
            return Array(["[]", "42", "\"call\"", "null", "{}", "{\"method\":null}", "{\"more\":true}"].randomElement(using: &rng)!.utf8)
        }
    }

    public static func validCall(using rng: inout SplitMix64) -> String {
        let method = methods.randomElement(using: &rng)!
        var parameters: [String] = []
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            parameters.append("\"\(keys.randomElement(using: &rng)!)\":\(values.randomElement(using: &rng)!)")
        }
        return "{\"method\":\"\(method)\",\"parameters\":{\(parameters.joined(separator: ","))}}"
    }
}
