import AMIProtocol
import Configuration
import EventMapper
import Foundation
import Logging
import MariaDB
import SystemPackage
import ViciDial

extension BridgeConfiguration {
    /// Reads the YAML file at `path` with environment variables on top (`AMI_PORT` overrides
    /// `ami.port`, `AMI_SECRET` supplies `ami.secret`, `AMI_DIALER2_HOST` overrides
    /// `ami.dialer2.host`). A missing or malformed value fails with the key's name.
    static func load(path: String?, environment: [String: String]? = nil) async throws -> BridgeConfiguration {
        try BridgeConfiguration(reader: try await ConfigReader.amibridge(path: path, environment: environment))
    }

    init(reader: ConfigReader) throws {
        let values = ConfigValues(reader: reader)
        let ami = values.scoped("ami")
        // The top-level `ami` section is the first server and the defaults of the others.
        var servers = [try Self.amiServer(name: try ami.string("name", default: "asterisk"), section: ami, defaults: nil)]
        for extra in ami.stringArray("extra_servers") {
            guard !servers.contains(where: { $0.name == extra }) else {
                throw ConfigurationError(key: "ami.extra_servers", problem: "server name '\(extra)' is used twice")
            }
            servers.append(try Self.amiServer(name: extra, section: ami.scoped(extra), defaults: servers[0]))
        }
        amiServers = servers
        // 20,000 events is a tenth of a second of the 1 M events/s the tracker takes: with
        // backpressure a bigger buffer smooths nothing more, it only holds more memory when a
        // later stage falls behind (the 10-minute soak's RSS high-water mark followed it).
        eventBufferCapacity = try values.int("ami.event_buffer", default: 20_000, range: 100...10_000_000)
        vicidialDatabase = try Self.vicidialDatabase(values.scoped("vicidial").scoped("db"))
        let vicidial = values.scoped("vicidial")
        enrichment = CallEnrichmentQueue.Configuration(
            retryInterval: Double(try vicidial.int("row_poll_seconds", default: 2, range: 1...3600)),
            maximumWait: Double(try vicidial.int("row_wait_seconds", default: 60, range: 0...86_400))
        )
        dispositions = DispositionQueue.Configuration(
            pollInterval: Double(try vicidial.int("dispo_poll_seconds", default: 5, range: 1...3600)),
            maximumWait: Double(try vicidial.int("dispo_wait_seconds", default: 1800, range: 0...604_800))
        )
        answers = CallAnswerQueue.Configuration(
            maximumWait: Double(try vicidial.int("answer_wait_ms", default: 2000, range: 1...30_000)) / 1000
        )

        let level = try values.string("log.level", default: "info")
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw ConfigurationError(key: "log.level", problem: "'\(level)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        self.logLevel = logLevel
        let format = try values.string("log.format", default: "json")
        guard let logFormat = LogFormat(rawValue: format) else {
            throw ConfigurationError(key: "log.format", problem: "'\(format)' is not json or text")
        }
        self.logFormat = logFormat
        maskPhoneNumbers = try values.bool("log.mask_phone_numbers", default: false)
    }

    /// `vicidial.db.socket`, or `vicidial.db.host` and `port`; neither means no database. Every
    /// key is read (and checked) even then, so a bad `port` is an error rather than unnoticed.
    private static func vicidialDatabase(_ section: ConfigValues) throws -> MariaDBConnection.Configuration? {
        let socket = try section.optionalString("socket", default: nil)
        let host = try section.optionalString("host", default: nil)
        let port = try section.int("port", default: 3306, range: 1...65535)
        let user = try section.optionalString("user", default: nil)
        let password = try section.optionalString("password", default: nil, isSecret: true) ?? ""
        let database = try section.string("name", default: "asterisk")
        guard socket != nil || host != nil else { return nil }
        let endpoint: MariaDBConnection.Configuration.Endpoint = if let socket {
            .unixSocket(path: socket)
        } else {
            .tcp(host: host!, port: port)
        }
        guard let user else { throw ConfigurationError(key: section.path("user"), problem: "missing") }
        return MariaDBConnection.Configuration(endpoint: endpoint, username: user, password: password, database: database)
    }

    private static func amiServer(name: String, section: ConfigValues, defaults: AMIClient.Configuration?) throws -> AMIClient.Configuration {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ConfigurationError(key: section.path("name"), problem: "'\(name)' must be letters, digits, '-' or '_'")
        }
        let host = try section.requiredString("host", default: defaults?.host)
        let port = try section.int("port", default: defaults?.port ?? 5038, range: 1...65535)
        let username = try section.requiredString("username", default: defaults?.session.username)
        let secret = try section.requiredString("secret", default: defaults?.session.secret, isSecret: true)
        let auth = try section.string("auth", default: defaults?.session.authentication.rawValue ?? "md5")
        guard let authentication = AMIConnectionStateMachine.Configuration.Authentication(rawValue: auth) else {
            throw ConfigurationError(key: section.path("auth"), problem: "'\(auth)' is not md5 or plain")
        }
        let base = defaults?.session ?? .init(username: username, secret: secret)
        let session = AMIConnectionStateMachine.Configuration(
            username: username,
            secret: secret,
            authentication: authentication,
            eventMask: try section.optionalString("events", default: base.eventMask),
            filters: section.stringArray("filters", default: base.filters),
            loginTimeout: try section.duration("login_timeout_ms", default: base.loginTimeout),
            keepaliveInterval: try section.duration("ping_interval_ms", default: base.keepaliveInterval),
            pingTimeout: try section.duration("ping_timeout_ms", default: base.pingTimeout)
        )
        let reconnectBase = defaults?.reconnect ?? .init()
        let reconnect = ReconnectBackoff.Configuration(
            initialDelay: try section.duration("reconnect_initial_ms", default: reconnectBase.initialDelay),
            maximumDelay: try section.duration("reconnect_max_ms", default: reconnectBase.maximumDelay),
            loginRejectedDelay: try section.duration("login_retry_ms", default: reconnectBase.loginRejectedDelay)
        )
        let policy = try section.string("overflow", default: defaults?.overflowPolicy.rawValue ?? "backpressure")
        guard let overflowPolicy = AMIClient.Configuration.OverflowPolicy(rawValue: policy) else {
            throw ConfigurationError(key: section.path("overflow"), problem: "'\(policy)' is not backpressure or dropNewest")
        }
        return AMIClient.Configuration(
            name: name, host: host, port: port, session: session, reconnect: reconnect,
            connectTimeout: try section.duration("connect_timeout_ms", default: defaults?.connectTimeout ?? .seconds(5)),
            defaultActionTimeout: try section.duration("action_timeout_ms", default: defaults?.defaultActionTimeout ?? .seconds(10)),
            overflowPolicy: overflowPolicy
        )
    }
}

/// Typed reads with one-line errors naming the full key. Values are read as text and parsed
/// here, so `port: abc` is an error instead of a silent fallback to the default.
struct ConfigValues {
    let reader: ConfigReader
    var prefix: [String] = []

    func scoped(_ component: String) -> ConfigValues {
        ConfigValues(reader: reader, prefix: prefix + [component])
    }

    func path(_ key: String) -> String { (prefix + [key]).joined(separator: ".") }

    /// The single value at `key`, or nil when absent. A list (`port: [1, 2]`) where one value
    /// belongs is an error, not a silent fall back to the default.
    func scalar(_ key: String, isSecret: Bool = false) throws -> String? {
        let configKey = ConfigKey(prefix + key.split(separator: ".").map(String.init))
        if let value = reader.string(forKey: configKey, isSecret: isSecret) { return value }
        if reader.stringArray(forKey: configKey, isSecret: isSecret) != nil {
            throw ConfigurationError(key: path(key), problem: "is a list; a single value belongs here")
        }
        return nil
    }

    private func raw(_ key: String, isSecret: Bool = false) throws -> String? {
        try scalar(key, isSecret: isSecret)
    }

    func string(_ key: String, default defaultValue: String) throws -> String {
        try raw(key) ?? defaultValue
    }

    /// `none` or an empty value turns an optional setting off.
    func optionalString(_ key: String, default defaultValue: String?, isSecret: Bool = false) throws -> String? {
        guard let value = try raw(key, isSecret: isSecret) else { return defaultValue }
        return value.isEmpty || value == "none" ? nil : value
    }

    func requiredString(_ key: String, default defaultValue: String?, isSecret: Bool = false) throws -> String {
        if let value = try raw(key, isSecret: isSecret), !value.isEmpty { return value }
        if let defaultValue { return defaultValue }
        let variable = path(key).uppercased().replacingOccurrences(of: ".", with: "_")
        throw ConfigurationError(key: path(key), problem: isSecret ? "missing (set it with the environment variable \(variable))" : "missing")
    }

    func stringArray(_ key: String, default defaultValue: [String] = []) -> [String] {
        let key = ConfigKey(prefix + key.split(separator: ".").map(String.init))
        if let array = reader.stringArray(forKey: key) { return array }
        // From the environment a list is one comma-separated value.
        if let single = reader.string(forKey: key) {
            return single.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return defaultValue
    }

    func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = try raw(key) else { return defaultValue }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigurationError(key: path(key), problem: "'\(text)' is not a whole number")
        }
        guard range.contains(value) else {
            throw ConfigurationError(key: path(key), problem: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func duration(_ key: String, default defaultValue: Duration) throws -> Duration {
        let defaultMilliseconds = Int(defaultValue.components.seconds * 1000 + defaultValue.components.attoseconds / 1_000_000_000_000_000)
        return .milliseconds(try int(key, default: defaultMilliseconds, range: 1...86_400_000))
    }
}
