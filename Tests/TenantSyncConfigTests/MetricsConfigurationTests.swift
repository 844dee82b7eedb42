import Testing
import TenantSyncConfig
import TenantSyncCore

@Suite("[metrics] configuration")
struct MetricsConfigurationTests {
    let loader = ConfigurationLoader(environment: [:])

    func failure(_ text: String) -> ConfigurationError? {
        do {
            _ = try loader.parse(text: text, file: "/etc/tenantsync/tenantsyncd.toml")
            return nil
        } catch {
            return error
        }
    }

    @Test("absent: no endpoint")
    func absentMeansOff() throws {
        #expect(try loader.parse(text: "", file: "x.toml").metrics.listen == nil)
        #expect(try loader.parse(text: "[metrics]\n", file: "x.toml").metrics.listen == nil)
    }

    @Test("listen takes HOST:PORT and [IPV6]:PORT", arguments: [
        ("127.0.0.1:9464", "127.0.0.1", 9464), ("0.0.0.0:9100", "0.0.0.0", 9100), ("[::1]:9464", "::1", 9464),
        ("metrics.internal:80", "metrics.internal", 80), ("127.0.0.1:0", "127.0.0.1", 0),
    ])
    func listenIsParsed(text: String, host: String, port: Int) throws {
        let configuration = try loader.parse(text: "[metrics]\nlisten = \"\(text)\"\n", file: "x.toml")
        #expect(configuration.metrics.listen == MetricsListenAddress(host: host, port: port))
        #expect(configuration.metrics.listen?.description == text)
    }

    @Test("a listen that is not HOST:PORT is refused with file:line", arguments: [
        "9464", "127.0.0.1", "127.0.0.1:", ":9464", "127.0.0.1:65536", "127.0.0.1:-1", "::1:9464", "[::1]9464", "http://127.0.0.1:9464",
        "127.0.0.1:94x4",
    ])
    func badListenIsRefused(text: String) {
        let error = failure("# metrics\n[metrics]\nlisten = \"\(text)\"\n")
        #expect(error?.line == 3, "\(text): \(String(describing: error))")
        #expect(error?.description.hasPrefix("/etc/tenantsync/tenantsyncd.toml:3: listen must be HOST:PORT") == true, "\(text): \(String(describing: error))")
    }

    @Test("an unknown key under [metrics] and a listen of the wrong type are refused with their line")
    func unknownKeysAndTypesAreRefused() {
        #expect(failure("[metrics]\nport = 9464\n")?.line == 2)
        #expect(failure("[metrics]\nlisten = 9464\n")?.description == "/etc/tenantsync/tenantsyncd.toml:2: metrics.listen must be a string, not an int")
    }
}
