import CRMSink
import Configuration
import Foundation
import SystemPackage

extension WebhookConfiguration {
    /// Reads the YAML file at `path` with environment variables on top, like
    /// ``BridgeConfiguration/load(path:environment:)``: `WEBHOOKS_ENDPOINTS=crm1,crm2`,
    /// `WEBHOOKS_CRM1_URL`, and the secrets `WEBHOOKS_CRM1_SECRET` (never needed in the file).
    static func load(path: String?, environment: [String: String]? = nil) async throws -> WebhookConfiguration {
        try WebhookConfiguration(reader: try await ConfigReader.amibridge(path: path, environment: environment))
    }

    /// `webhooks.endpoints: [crm1, crm2]` names the endpoints; each has its section `webhooks.crm1`.
    init(reader: ConfigReader) throws {
        let values = ConfigValues(reader: reader)
        stateDirectory = try values.stateDirectory()
        let webhooks = values.scoped("webhooks")
        dispatcher = WebhookDispatcher.Configuration(
            workers: try webhooks.int("workers", default: WebhookDispatcher.Configuration().workers, range: 1...64),
            pollInterval: try webhooks.duration("poll_interval_ms", default: .seconds(1))
        )
        var endpoints: [WebhookEndpoint.Configuration] = []
        for name in webhooks.stringArray("endpoints") {
            guard !endpoints.contains(where: { $0.name == name }) else {
                throw ConfigurationError(key: "webhooks.endpoints", problem: "endpoint name '\(name)' is used twice")
            }
            endpoints.append(try Self.endpoint(name: name, section: webhooks.scoped(name)))
        }
        self.endpoints = endpoints
    }

    private static func endpoint(name: String, section: ConfigValues) throws -> WebhookEndpoint.Configuration {
        let defaults = try WebhookEndpoint.Configuration(name: "defaults", url: "https://example.com/")
        var events: Set<WebhookEvent.Name> = []
        for event in section.stringArray("events", default: WebhookEvent.Name.allCases.map(\.rawValue)) {
            guard let name = WebhookEvent.Name(rawValue: event) else {
                let known = WebhookEvent.Name.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigurationError(key: section.path("events"), problem: "'\(event)' is not one of \(known)")
            }
            events.insert(name)
        }
        let formatName = try section.string("format", default: WebhookEndpoint.Format.json.rawValue)
        guard let format = WebhookEndpoint.Format(rawValue: formatName) else {
            throw ConfigurationError(key: section.path("format"), problem: "'\(formatName)' is not json or vicidial-template")
        }
        do {
            return try WebhookEndpoint.Configuration(
                name: name,
                url: try section.requiredString("url", default: nil),
                events: events,
                campaigns: Set(section.stringArray("campaigns")),
                format: format,
                secret: try section.secret("secret"),
                timeout: try section.duration("timeout_ms", default: defaults.timeout),
                connectTimeout: try section.duration("connect_timeout_ms", default: defaults.connectTimeout),
                maxAttempts: try section.int("max_attempts", default: defaults.maxAttempts, range: 1...1000),
                maxAge: .milliseconds(try section.int("max_age_ms", default: 86_400_000, range: 1000...2_592_000_000)),
                backoffInitial: try section.duration("backoff_initial_ms", default: defaults.backoffInitial),
                backoffCap: try section.duration("backoff_max_ms", default: defaults.backoffCap),
                verifiesTLS: try section.bool("verify_tls", default: true),
                followsRedirects: try section.bool("follow_redirects", default: false),
                waitsForDisposition: try section.bool("wait_for_disposition", default: false)
            )
        } catch let error as WebhookConfigurationError {
            throw ConfigurationError(key: error.key, problem: error.problem)
        }
    }
}

extension ConfigValues {
    /// A secret that may be absent (from the environment: `WEBHOOKS_CRM1_SECRET`); never logged.
    func secret(_ key: String) throws -> String? {
        let value = try scalar(key, isSecret: true)
        return value?.isEmpty == false ? value : nil
    }

    /// `state_dir`: default `/var/lib/amibridge`; an empty value is an error, not the current directory.
    func stateDirectory() throws -> String {
        guard let value = try scalar("state_dir") else { return "/var/lib/amibridge" }
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConfigurationError(key: path("state_dir"), problem: "is empty; give a directory such as /var/lib/amibridge")
        }
        return value
    }

    /// `true`/`false` (also `yes`/`no`, `1`/`0`, `on`/`off`); anything else is an error naming the key.
    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let text = try scalar(key) else { return defaultValue }
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw ConfigurationError(key: path(key), problem: "'\(text)' is not true or false")
        }
    }
}

extension ConfigReader {
    /// The YAML file at `path` (if any) with the environment on top: what every command reads.
    /// `recorder` learns every key read, for ``ConfigurationFile/checkNoUnknownKeys(known:)``.
    static func amibridge(path: String?, environment: [String: String]? = nil, recorder: ConfigKeyRecorder? = nil) async throws -> ConfigReader {
        var providers: [any ConfigProvider] = [
            environment.map { EnvironmentVariablesProvider(environmentVariables: $0) } ?? EnvironmentVariablesProvider(),
        ]
        if let path {
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(path)))
            } catch {
                throw ConfigurationError(key: path, problem: "cannot read the configuration file (\(ConfigurationFile.firstLine(of: error)))")
            }
        }
        return ConfigReader(providers: providers, accessReporter: recorder)
    }
}
