@testable import AMIBridge
import Configuration
import Testing

/// `api.*` keys: defaults, and a bad value fails with one line naming the key.
@Suite("API configuration")
struct APIConfigurationTests {
    static func read(_ environment: [String: String]) throws -> APIConfiguration {
        try APIConfiguration(reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment)))
    }

    @Test("defaults: 127.0.0.1:8088, 100/min, 1 MiB, no CORS origins, any IP")
    func defaults() throws {
        let configuration = try Self.read([:])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8088)
        #expect(configuration.rateLimitPerMinute == 100)
        #expect(configuration.bodyLimitBytes == 1 << 20)
        #expect(configuration.corsOrigins.isEmpty)
        #expect(configuration.ipAllowlist.isEmpty)
    }

    @Test("values from the environment")
    func values() throws {
        let configuration = try Self.read([
            "API_LISTEN": "[::1]:9000", "API_CORS_ORIGINS": "https://crm.example.com, https://b.example.com",
            "API_IP_ALLOWLIST": "10.0.0.0/8,192.168.1.5", "API_RATE_LIMIT_PER_MINUTE": "30", "STATE_DIR": "/tmp/x",
        ])
        #expect(configuration.host == "::1")
        #expect(configuration.port == 9000)
        #expect(configuration.corsOrigins == ["https://crm.example.com", "https://b.example.com"])
        #expect(configuration.ipAllowlist.map(\.description) == ["10.0.0.0/8", "192.168.1.5/32"])
        #expect(configuration.rateLimitPerMinute == 30)
        #expect(configuration.stateDirectory == "/tmp/x")
    }

    @Test("a bad value names its key", arguments: [
        ("API_LISTEN", "localhost", "api.listen"),
        ("API_LISTEN", "127.0.0.1:99999", "api.listen"),
        ("API_LISTEN", "::1", "api.listen"),
        ("API_IP_ALLOWLIST", "10.0.0.0/40", "api.ip_allowlist"),
        ("API_CORS_ORIGINS", "crm.example.com", "api.cors_origins"),
        ("API_RATE_LIMIT_PER_MINUTE", "lots", "api.rate_limit_per_minute"),
        ("API_BODY_LIMIT_BYTES", "0", "api.body_limit_bytes"),
    ])
    func badValue(variable: String, value: String, key: String) {
        do {
            _ = try Self.read([variable: value])
            Issue.record("\(variable)=\(value) was accepted")
        } catch {
            #expect("\(error)".hasPrefix("configuration error: \(key): "))
            #expect(!"\(error)".contains("\n"))
        }
    }
}
