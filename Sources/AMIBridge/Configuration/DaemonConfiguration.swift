import ArgumentParser
import Foundation

/// What `run` and `check` read from one file (and the environment), loaded together so both
/// commands fail alike: one line on stderr naming the key, and exit status 78 (EX_CONFIG), which
/// systemd shows as the reason the unit failed.
struct DaemonConfiguration {
    var bridge: BridgeConfiguration
    var webhooks: WebhookConfiguration
    var api: APIConfiguration
    var clickToCall: ClickToCallConfiguration

    static func loadOrExit(path: String) async throws -> DaemonConfiguration {
        do {
            return DaemonConfiguration(
                bridge: try await BridgeConfiguration.load(path: path),
                webhooks: try await WebhookConfiguration.load(path: path),
                api: try await APIConfiguration.load(path: path),
                clickToCall: try await ClickToCallConfiguration.load(path: path)
            )
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("amibridge: \(error)\n".utf8))
            throw ExitCode(78) // EX_CONFIG
        }
    }
}
