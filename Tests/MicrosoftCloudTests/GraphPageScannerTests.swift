import Foundation
import NIOCore
import Testing
import TestSupport
@testable import MicrosoftCloud

/// The strict page scanner against `JSONDecoder`, which stays the reference: whatever the scanner
/// accepts must be exactly what `JSONDecoder` decodes, and everything it declines still reaches
/// `JSONDecoder` (so malformed pages keep their error).
@Suite("Graph page scanner")
struct GraphPageScannerTests {
    // MARK: The shapes the emulator and Graph send

    @Test("Pages as Graph and the emulator send them are read by the scanner, equal to JSONDecoder's")
    func everydayPages() throws {
        let users = """
            {"@odata.context":"http://127.0.0.1:1/v1.0/$metadata#users","value":[{"id":"ad12e1a6-66b3-4d37-91aa-ebbc68ebadf3",\
            "userPrincipalName":"pradeep.gupta0@contoso.onmicrosoft.com","displayName":"Pradeep Gupta",\
            "mail":"pradeep.gupta0@contoso.onmicrosoft.com","accountEnabled":true},{"id":"96359788-672a-4c96-beaf-5b50b97e28a1",\
            "userPrincipalName":"zoë@contoso.onmicrosoft.com","displayName":"Zo\\u00eb \\"Z\\" M\\u00fcller \\ud83d\\ude00","mail":null,\
            "accountEnabled":false}],"@odata.nextLink":"http:\\/\\/127.0.0.1:1\\/v1.0\\/users?$top=999&$skiptoken=ZW11"}
            """
        let page = try #require(Self.scanned(users, GraphUser.self), "the scanner declined an everyday users page")
        #expect(page == (try Self.decoded(users, GraphUser.self)))
        #expect(page.value.count == 2 && page.value[1].displayName == "Zoë \"Z\" Müller 😀" && page.value[1].mail == nil)
        #expect(page.nextLink == "http://127.0.0.1:1/v1.0/users?$top=999&$skiptoken=ZW11" && page.deltaLink == nil)

        let members = """
            {"@odata.context":"x","value":[{"@odata.type":"#microsoft.graph.user","id":"ad1a0732-aa6f-4cde-aec5-2aa19f327924"},\
            {"@odata.type":"#microsoft.graph.group","id":"d95c55b2-26b3-4f60-9a04-1cf19001fa6b"}]}
            """
        let memberPage = try #require(Self.scanned(members, GraphDirectoryObject.self))
        #expect(memberPage == (try Self.decoded(members, GraphDirectoryObject.self)))
        #expect(memberPage.value.map(\.odataType) == ["#microsoft.graph.user", "#microsoft.graph.group"] && memberPage.nextLink == nil)

        let groupsDelta = """
            {"value":[{"id":"g1","displayName":"Sales","mail":"sales@contoso.com","members@delta":[{"@odata.type":"#microsoft.graph.user",\
            "id":"u1"},{"@odata.type":"#microsoft.graph.user","id":"u2","@removed":{"reason":"deleted"}}]},\
            {"id":"g2","@removed":{"reason":"changed","extra":[1,2,{"a":null}]}},{"id":"g3","displayName":null,"members@delta":null}],\
            "@odata.deltaLink":"http://127.0.0.1:1/v1.0/groups/delta?$deltatoken=abc"}
            """
        let groupPage = try #require(Self.scanned(groupsDelta, GraphGroup.self))
        #expect(groupPage == (try Self.decoded(groupsDelta, GraphGroup.self)))
        #expect(groupPage.value[0].membersDelta?[1].removed == GraphRemoved(reason: "deleted"))
        #expect(groupPage.value[1].removed?.reason == "changed" && groupPage.value[2].membersDelta == nil)
        #expect(groupPage.deltaLink == "http://127.0.0.1:1/v1.0/groups/delta?$deltatoken=abc")

        let usersDelta = #"{"value":[{"id":"u9","@removed":{"reason":"deleted"}},{"id":"u8","displayName":"Changed"}],"@odata.nextLink":null}"#
        let deltaPage = try #require(Self.scanned(usersDelta, GraphUser.self))
        #expect(deltaPage == (try Self.decoded(usersDelta, GraphUser.self)))
        #expect(deltaPage.value[0].removed?.reason == "deleted" && deltaPage.value[1].userPrincipalName == nil)
    }

    // MARK: Generated pages

    @Test("2,000 generated pages (escapes, unicode, nulls, missing and extra members, links, @removed) read equal to JSONDecoder's")
    func generatedPagesMatchJSONDecoder() throws {
        var generator = PageGenerator(seed: 0x5EED_2026_1122)
        for round in 0..<2_000 {
            switch round % 3 {
            case 0:
                let text = generator.usersPage()
                let fast = try #require(Self.scanned(text, GraphUser.self), "declined generated users page \(round): \(text)")
                #expect(fast == (try Self.decoded(text, GraphUser.self)), "users page \(round) differs: \(text)")
            case 1:
                let text = generator.membersPage()
                let fast = try #require(Self.scanned(text, GraphDirectoryObject.self), "declined generated members page \(round): \(text)")
                #expect(fast == (try Self.decoded(text, GraphDirectoryObject.self)), "members page \(round) differs: \(text)")
            default:
                let text = generator.groupsPage()
                let fast = try #require(Self.scanned(text, GraphGroup.self), "declined generated groups page \(round): \(text)")
                #expect(fast == (try Self.decoded(text, GraphGroup.self)), "groups page \(round) differs: \(text)")
            }
        }
    }

    @Test("Truncated, garbled and spliced pages: the scanner accepts only what JSONDecoder reads the same way")
    func damagedPagesNeverDisagreeWithJSONDecoder() throws {
        var generator = PageGenerator(seed: 0xBAD_5EED)
        var accepted = 0, declined = 0
        for round in 0..<300 {
            let text = round % 2 == 0 ? generator.usersPage(maximumItems: 3) : generator.groupsPage(maximumItems: 3)
            let bytes = Array(text.utf8)
            var variants: [[UInt8]] = []
            // Every truncation of the page.
            for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 40)) { variants.append(Array(bytes[..<cut])) }
            for _ in 0..<30 {
                var changed = bytes
                let at = generator.int(below: changed.count)
                switch generator.int(below: 4) {
                case 0: changed[at] = UInt8(truncatingIfNeeded: generator.int(below: 256))
                case 1: changed.remove(at: at)
                case 2: changed.insert(Array(#"{}[]",:\n"#.utf8)[generator.int(below: 9)], at: at)
                default: changed.insert(contentsOf: [0xC3, 0x28, 0xED, 0xA0, 0x80, 0xFF][generator.int(below: 6)...], at: at)
                }
                variants.append(changed)
            }
            for variant in variants {
                let agrees = round % 2 == 0 ? Self.agree(variant, GraphUser.self) : Self.agree(variant, GraphGroup.self)
                #expect(agrees.agree, "scanner and JSONDecoder disagree on: \(String(decoding: variant, as: UTF8.self))")
                if agrees.scannerAccepted { accepted += 1 } else { declined += 1 }
            }
        }
        // Both outcomes must occur, or the check above proves nothing.
        #expect(accepted > 100 && declined > 1_000, "accepted \(accepted), declined \(declined)")
    }

    @Test(
        "Input the scanner leaves to JSONDecoder",
        arguments: [
            "", " ", "[]", "null", #"{"value":null}"#, #"{}"#, #"{"value":[]"#, #"{"value":[],}"#, #"{"value":[]} x"#,
            "\u{FEFF}" + #"{"value":[]}"#, #"{"value":[{"id":null}]}"#, #"{"value":[{"displayName":"no id"}]}"#,
            #"{"value":[{"id":"a","id":"b"}]}"#, #"{"value":[],"value":[]}"#, #"{"value":[{"id":"a","accountEnabled":"true"}]}"#,
            #"{"value":[{"id":"a","accountEnabled":1}]}"#, #"{"value":[{"id":"a","mail":5}]}"#, #"{"value":[1]}"#,
            #"{"value":[{"id":"a\ud800"}]}"#, #"{"value":[{"id":"a\udc00\ud800"}]}"#, #"{"value":[{"id":"\ud83d\u0041"}]}"#,
            #"{"value":[{"id":"a\x"}]}"#, #"{"value":[{"id":"a\u12"}]}"#, "{\"value\":[{\"id\":\"tab\there\"}]}",
            #"{"value":[{"\u0069d":"escaped key"}]}"#, #"{"value":[{"id":"a","n":01}]}"#, #"{"value":[{"id":"a","n":1.}]}"#,
            #"{"value":[{"id":"a","n":-}]}"#, #"{"value":[{"id":"a","n":1e}]}"#, #"{"value":[{"id":"a","n":.5}]}"#,
            #"{"value":[{"id":"a","n":+1}]}"#, #"{"value":[{"id":"a","x":tru}]}"#, #"{"value":[{"id":"a","x":[1,]}]}"#,
            #"{"value":[{"id":"a","@removed":{}}]}"#, #"{"value":[{"id":"a","@removed":{"reason":null}}]}"#,
            #"{"value":[{"id":"a","@removed":"deleted"}]}"#, #"{"value":[],"@odata.nextLink":7}"#,
            #"{"value":[],"@odata.deltaLink":"a","@odata.deltaLink":"b"}"#, #"{"value":[{"id":"a"}]}}"#,
            #"{'value':[]}"#, #"{"value":[{"id":"a","x":NaN}]}"#, #"{"value":[{"id":"a"}] "@odata.nextLink":"b"}"#,
            String(repeating: "[", count: 70) + String(repeating: "]", count: 70),
            #"{"value":[{"id":"a","deep":"# + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}]}",
        ]
    )
    func declined(text: String) {
        #expect(Self.scanned(text, GraphUser.self) == nil, "the scanner accepted: \(text)")
    }

    @Test("Invalid UTF-8 and raw control bytes are left to JSONDecoder")
    func invalidBytesAreDeclined() {
        for bad: [UInt8] in [[0xC3, 0x28], [0xED, 0xA0, 0x80], [0xFF], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0x01], [0x7F - 0x70]] {
            let inID = Array(#"{"value":[{"id":"x"#.utf8) + bad + Array(#""}]}"#.utf8)
            let inOther = Array(#"{"value":[{"id":"x","other":"y"#.utf8) + bad + Array(#""}]}"#.utf8)
            for bytes in [inID, inOther] {
                #expect(Self.scannedBytes(bytes, GraphUser.self) == nil, "the scanner accepted \(bytes)")
            }
        }
    }

    @Test("Escapes that JSONDecoder reads are read the same way: \\u0000, \\/, astral pairs, every short escape")
    func escapesMatch() throws {
        let text = #"{"value":[{"id":"\u0000\/\b\f\n\r\t\"\\\u00e9\u20ac\ud834\udd1e\uFFFF","displayName":"\u0041\u00DF"}]}"#
        let fast = try #require(Self.scanned(text, GraphUser.self))
        #expect(fast == (try Self.decoded(text, GraphUser.self)))
        #expect(fast.value[0].id == "\u{0}/\u{8}\u{C}\n\r\t\"\\é€𝄞\u{FFFF}" && fast.value[0].displayName == "Aß")
    }

    // MARK: Through GraphClient

    @Test("GraphClient reads a page the scanner declines through JSONDecoder, and a broken one as malformedResponse")
    func clientFallsBackAndKeepsItsError() throws {
        // An escaped member name: valid JSON the scanner leaves alone.
        let escaped = ByteBuffer(string: #"{"value":[{"\u0069d":"u1","userPrincipalName":"a@b"}]}"#)
        #expect(GraphPage<GraphUser>.scanned(UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
        let page = try GraphClient.decodePage(escaped, as: GraphUser.self, url: "http://127.0.0.1:1/v1.0/users?$top=999")
        #expect(page.value.map(\.id) == ["u1"])

        let broken = ByteBuffer(string: #"{"value":[{"id":"u1","userPrincipalName":"a@b"},{"id":"u2","user"broken"#)
        let error = try #require(throws: GraphError.self) {
            try GraphClient.decodePage(broken, as: GraphUser.self, url: "http://127.0.0.1:1/v1.0/users?$top=999")
        }
        #expect(error.kind == .malformedResponse && error.message.contains("not a valid Graph page") && error.path == "/v1.0/users")
    }

    // MARK: Helpers

    static func scanned<Item>(_ text: String, _: Item.Type) -> GraphPage<Item>? {
        scannedBytes(Array(text.utf8), Item.self)
    }

    static func scannedBytes<Item>(_ bytes: [UInt8], _: Item.Type) -> GraphPage<Item>? {
        bytes.withUnsafeBytes { GraphPage<Item>.scanned($0) }
    }

    static func decoded<Item>(_ text: String, _: Item.Type) throws -> GraphPage<Item> {
        try JSONDecoder().decode(GraphPage<Item>.self, from: Data(text.utf8))
    }

    /// Whether the scanner either declined `bytes` or read exactly what JSONDecoder reads.
    static func agree<Item: Decodable & Sendable & Equatable>(_ bytes: [UInt8], _: Item.Type) -> (agree: Bool, scannerAccepted: Bool) {
        guard let fast = scannedBytes(bytes, Item.self) else { return (true, false) }
        guard let slow = try? JSONDecoder().decode(GraphPage<Item>.self, from: Data(bytes)) else { return (false, true) }
        return (fast == slow, true)
    }
}

/// Generates valid Graph pages with everything a page may legally hold.
struct PageGenerator {
    private var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(state: seed) }

    mutating func next() -> UInt64 { random.next() }

    mutating func int(below bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
    mutating func chance(_ percent: Int) -> Bool { int(below: 100) < percent }

    mutating func whitespace() -> String {
        guard chance(15) else { return "" }
        return String((0..<(1 + int(below: 3))).map { _ in [" ", "\t", "\n", "\r"][int(below: 4)] })
    }

    /// A JSON string literal: plain, unicode (raw or escaped, astral as surrogate pairs) and every escape.
    mutating func string() -> String {
        let pieces: [String] = [
            "a", "Zoë", "李", "😀", "ß", "x y", "@", "/", "\"", "\\", "\n", "\t", "\u{1}", "\u{0}", "\u{7F}", "é", "€", "𝄞",
            "contoso.onmicrosoft.com", "ad12e1a6-66b3-4d37-91aa-ebbc68ebadf3", "\u{FFFF}", "\u{2028}",
        ]
        var literal = "\""
        for _ in 0..<int(below: 6) {
            let piece = pieces[int(below: pieces.count)]
            for scalar in piece.unicodeScalars {
                literal += encode(scalar)
            }
        }
        return literal + "\""
    }

    private mutating func encode(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\"": return "\\\""
        case "\\": return "\\\\"
        case "\n": return chance(50) ? "\\n" : "\\u000a"
        case "\t": return chance(50) ? "\\t" : "\\u0009"
        case "/": return chance(50) ? "\\/" : "/"
        default:
            if scalar.value < 0x20 { return String(format: "\\u%04x", scalar.value) }
            guard chance(30) else { return String(scalar) }
            if scalar.value > 0xFFFF {
                let value = scalar.value - 0x10000
                let format = chance(50) ? "\\u%04x\\u%04x" : "\\u%04X\\u%04X"
                return String(format: format, 0xD800 + (value >> 10), 0xDC00 + (value & 0x3FF))
            }
            return String(format: chance(50) ? "\\u%04x" : "\\u%04X", scalar.value)
        }
    }

    /// Any JSON value, nested up to `depth` more levels.
    mutating func anyValue(depth: Int) -> String {
        switch int(below: depth > 0 ? 9 : 7) {
        case 0: return string()
        case 1: return ["0", "-0", "12", "-3.25", "1e5", "2E-3", "6.02e+23", "1.5E300", "123456789012345678901234567890"][int(below: 9)]
        case 2: return "true"
        case 3: return "false"
        case 4: return "null"
        case 5: return "\"\""
        case 6: return "[]"
        case 7: return "[" + (0..<int(below: 4)).map { _ in whitespace() + anyValue(depth: depth - 1) + whitespace() }.joined(separator: ",") + "]"
        default:
            let members = (0..<int(below: 4)).map { index in "\"k\(index)\"" + whitespace() + ":" + whitespace() + anyValue(depth: depth - 1) }
            return "{" + whitespace() + members.joined(separator: "," + whitespace()) + whitespace() + "}"
        }
    }

    /// Names next to the known ones, so that near misses are exercised.
    mutating func unknownName() -> String {
        ["idx", "Id", "ID", "mail2", "@odata.etag", "@odata.type2", "values", "displayname", "businessPhones", "", "@removed2", "members"][int(below: 12)]
    }

    mutating func object(_ known: [(String, String)]) -> String {
        var members = known.map { "\"\($0.0)\"" + whitespace() + ":" + whitespace() + $0.1 }
        for _ in 0..<(chance(30) ? 1 + int(below: 3) : 0) {
            members.append("\"\(unknownName())\"" + whitespace() + ":" + whitespace() + anyValue(depth: 3))
        }
        // Shuffle: member order must not matter.
        for index in stride(from: members.count - 1, to: 0, by: -1) { members.swapAt(index, int(below: index + 1)) }
        return "{" + whitespace() + members.joined(separator: whitespace() + "," + whitespace()) + whitespace() + "}"
    }

    mutating func optionalString(_ name: String, into members: inout [(String, String)]) {
        switch int(below: 4) {
        case 0: break
        case 1: members.append((name, "null"))
        default: members.append((name, string()))
        }
    }

    mutating func removed(into members: inout [(String, String)]) {
        switch int(below: 6) {
        case 0: members.append(("@removed", object([("reason", chance(50) ? "\"deleted\"" : "\"changed\"")])))
        case 1: members.append(("@removed", "null"))
        default: break
        }
    }

    mutating func user() -> String {
        var members = [("id", string())]
        optionalString("userPrincipalName", into: &members)
        optionalString("displayName", into: &members)
        optionalString("mail", into: &members)
        switch int(below: 4) {
        case 0: break
        case 1: members.append(("accountEnabled", "null"))
        case 2: members.append(("accountEnabled", "true"))
        default: members.append(("accountEnabled", "false"))
        }
        removed(into: &members)
        return object(members)
    }

    mutating func directoryObject() -> String {
        var members = [("id", string())]
        switch int(below: 4) {
        case 0: break
        case 1: members.append(("@odata.type", "null"))
        case 2: members.append(("@odata.type", "\"#microsoft.graph.user\""))
        default: members.append(("@odata.type", string()))
        }
        removed(into: &members)
        return object(members)
    }

    mutating func group() -> String {
        var members = [("id", string())]
        optionalString("displayName", into: &members)
        optionalString("mail", into: &members)
        removed(into: &members)
        switch int(below: 3) {
        case 0: break
        case 1: members.append(("members@delta", "null"))
        default: members.append(("members@delta", array((0..<int(below: 4)).map { _ in directoryObject() })))
        }
        return object(members)
    }

    mutating func array(_ items: [String]) -> String {
        "[" + whitespace() + items.joined(separator: whitespace() + "," + whitespace()) + whitespace() + "]"
    }

    mutating func page(_ items: [String]) -> String {
        var members = [("value", array(items))]
        if chance(50) { members.append(("@odata.context", string())) }
        switch int(below: 4) {
        case 0: members.append(("@odata.nextLink", string()))
        case 1: members.append(("@odata.deltaLink", string()))
        case 2: members.append(("@odata.nextLink", "null"))
        default: break
        }
        return whitespace() + object(members) + whitespace()
    }

    mutating func usersPage(maximumItems: Int = 8) -> String { page((0..<int(below: maximumItems + 1)).map { _ in user() }) }
    mutating func membersPage(maximumItems: Int = 8) -> String { page((0..<int(below: maximumItems + 1)).map { _ in directoryObject() }) }
    mutating func groupsPage(maximumItems: Int = 8) -> String { page((0..<int(below: maximumItems + 1)).map { _ in group() }) }
}
