import ArgumentParser
import Configuration
import Foundation

/// What `run` and `check` read from one file (and the environment), loaded together so both
/// commands fail alike: one line on stderr naming the key, and exit status 78 (EX_CONFIG), which
/// systemd shows as the reason the unit failed.
struct DaemonConfiguration {
    var bridge: BridgeConfiguration
    var webhooks: WebhookConfiguration
    var api: APIConfiguration
    var clickToCall: ClickToCallConfiguration
    /// The event log on NATS JetStream; nil (the default) without `nats.urls`.
    var nats: NATSConfiguration? = nil

    static func loadOrExit(path: String, environment: [String: String]? = nil) async throws -> DaemonConfiguration {
        do {
            return try await load(path: path, environment: environment)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("amibridge: \(error)\n".utf8))
            throw ExitCode(78) // EX_CONFIG
        }
    }

    /// One reader for every section; a file key that none of them read is an error naming it.
    static func load(path: String, environment: [String: String]? = nil) async throws -> DaemonConfiguration {
        let file = try ConfigurationFile(path: path)
        let recorder = ConfigKeyRecorder()
        let reader = try await ConfigReader.amibridge(path: path, environment: environment, recorder: recorder)
        let loaded = DaemonConfiguration(
            bridge: try BridgeConfiguration(reader: reader),
            webhooks: try WebhookConfiguration(reader: reader),
            api: try APIConfiguration(reader: reader),
            clickToCall: try ClickToCallConfiguration(reader: reader),
            nats: try NATSConfiguration.read(reader)
        )
        try file.checkNoUnknownKeys(known: recorder.readKeys)
        let servers = loaded.bridge.amiServers.map(\.name)
        if let server = loaded.clickToCall.server, !servers.contains(server) {
            throw ConfigurationError(key: "click_to_call.server", problem: "'\(server)' is not an AMI server (\(servers.joined(separator: ", ")))")
        }
        return loaded
    }
}
