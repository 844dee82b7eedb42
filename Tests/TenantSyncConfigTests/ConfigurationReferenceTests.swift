import Foundation
import Testing
import TenantSyncConfig

/// The key table in `ConfigurationReference` is the one source of the configuration
/// documentation (README's table and tenantsyncd.toml(5) come from it): it must list exactly
/// the keys the loader accepts, and README must say what it says.
@Suite("Configuration reference")
struct ConfigurationReferenceTests {
    /// The keys the loader accepts in `section`, read from its "unknown key" error (which lists them).
    static func keysTheLoaderAccepts(in section: String) throws -> [String] {
        let probe = section.isEmpty ? "zz_not_a_key = 1\n" : "\(section)\nzz_not_a_key = 1\n"
        do {
            _ = try ConfigurationLoader(environment: [:]).parse(text: probe, file: "probe.toml")
        } catch {
            let marker = "known keys: "
            guard let range = error.message.range(of: marker) else {
                Issue.record("the loader's error for \(section) does not list the known keys: \(error.message)")
                return []
            }
            return error.message[range.upperBound...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
        }
        Issue.record("the loader accepted an unknown key in \(section)")
        return []
    }

    @Test("the reference lists exactly the tables and keys the loader accepts")
    func referenceMatchesTheLoader() throws {
        let tables = ConfigurationReference.sections.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) }
        #expect(try Self.keysTheLoaderAccepts(in: "") == tables.sorted(), "tables: the loader vs ConfigurationReference")
        for section in ConfigurationReference.sections {
            let documented = ConfigurationReference.keys.filter { $0.section == section }.flatMap(\.names).sorted()
            let accepted = try Self.keysTheLoaderAccepts(in: section)
            #expect(accepted == documented, "\(section): the loader accepts \(accepted), ConfigurationReference documents \(documented)")
        }
    }

    @Test("README's configuration table is the reference, row for row")
    func readmeSaysWhatTheReferenceSays() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").path
        let lines = try String(contentsOfFile: readme, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let heading = try #require(lines.firstIndex(of: "## Configuration reference"), "README has no '## Configuration reference'")
        let header = try #require(lines[heading...].firstIndex(of: "| key | default | meaning |"), "no key table under the heading")
        let rows = Array(lines[(header + 2)...].prefix { $0.hasPrefix("|") })
        let expected = ConfigurationReference.keys.map(ConfigurationReference.markdownRow)
        let differing = zip(rows, expected).enumerated().filter { $0.element.0 != $0.element.1 }.map { index, pair in
            "row \(index + 1):\n  README:    \(pair.0)\n  reference: \(pair.1)"
        }
        #expect(differing.isEmpty && rows.count == expected.count, """
            README's configuration table differs from ConfigurationReference.keys (Sources/TenantSyncConfig): \
            \(rows.count) rows vs \(expected.count) keys
            \(differing.joined(separator: "\n"))
            """)
    }
}
