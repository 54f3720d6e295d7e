import Configuration

extension APIConfiguration {
    /// Reads the `api` section (and `state_dir`) of the YAML file at `path`, environment on top
    /// (`API_LISTEN`, `API_IP_ALLOWLIST=10.0.0.0/8,192.168.1.5`). A bad value fails naming its key.
    static func load(path: String?, environment: [String: String]? = nil) async throws -> APIConfiguration {
        try APIConfiguration(reader: try await ConfigReader.amibridge(path: path, environment: environment))
    }

    init(reader: ConfigReader) throws {
        let values = ConfigValues(reader: reader)
        let api = values.scoped("api")
        stateDirectory = try values.stateDirectory()
        (host, port) = try Self.listen(try api.string("listen", default: "127.0.0.1:8088"), key: api.path("listen"))
        corsOrigins = api.stringArray("cors_origins")
        for origin in corsOrigins where origin != "*" && !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) {
            throw ConfigurationError(key: api.path("cors_origins"), problem: "'\(origin)' is not * or an origin such as https://crm.example.com")
        }
        ipAllowlist = try api.stringArray("ip_allowlist").map { entry in
            guard let range = IPAddressRange(entry) else {
                throw ConfigurationError(key: api.path("ip_allowlist"), problem: "'\(entry)' is not an IP address or CIDR block")
            }
            return range
        }
        recordingDirectories = api.stringArray("recording_directories", default: recordingDirectories)
        for directory in recordingDirectories where !directory.hasPrefix("/") {
            throw ConfigurationError(key: api.path("recording_directories"), problem: "'\(directory)' is not an absolute path")
        }
        rateLimitPerMinute = try api.int("rate_limit_per_minute", default: 100, range: 1...1_000_000)
        bodyLimitBytes = try api.int("body_limit_bytes", default: 1 << 20, range: 1024...(1 << 30))
    }

    /// `host:port`, `[v6]:port` or `:port` (all interfaces).
    static func listen(_ text: String, key: String) throws -> (host: String, port: Int) {
        let problem = ConfigurationError(key: key, problem: "'\(text)' is not host:port, such as 127.0.0.1:8088")
        guard let colon = text.lastIndex(of: ":") else { throw problem }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw problem // an IPv6 host needs brackets: [::1]:8088
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port), !host.contains(" ") else { throw problem }
        return (host, port)
    }
}
