import ArgumentParser
import Foundation
import ViciDial

/// `amibridge check`: is everything the daemon depends on there and usable? One line per
/// dependency, for the person installing it and for a deploy script (exit status).
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check every dependency: AMI login and Ping, the ViciDial tables, webhook endpoints, the state directory.",
        discussion: "Prints '✓ name: detail' or '✗ name: reason' per dependency. Exit status 0 when all pass, 1 when one fails, 78 for a configuration error."
    )

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String = "/etc/amibridge/amibridge.yaml"

    @Option(name: .long, help: "Seconds each check may take.")
    var timeout: Int = 15

    func validate() throws {
        guard (1...600).contains(timeout) else { throw ValidationError("--timeout must be 1...600 seconds") }
    }

    func run() async throws {
        let loaded = try await DaemonConfiguration.loadOrExit(path: config)
        var checks = loaded.bridge.amiServers.map(DependencyCheck.amiServer)
        if let database = loaded.bridge.vicidialDatabase {
            checks.append(.vicidialDatabase(database))
        }
        checks += loaded.webhooks.endpoints.map(DependencyCheck.webhookEndpoint)
        checks.append(.stateDirectory(loaded.webhooks.stateDirectory))
        if let nats = loaded.nats { checks.append(.natsEventLog(nats, endpoints: loaded.webhooks.endpoints.map(\.name))) }

        let results = await DependencyCheck.runAll(checks, timeout: .seconds(timeout))
        var lines = results.map(DependencyCheck.line)
        if loaded.bridge.vicidialDatabase == nil {
            lines.append("- vicidial_db: not configured (vicidial.db.socket or vicidial.db.host): webhooks carry no lead or disposition")
        }
        FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8))
        if !results.allSatisfy({ $0.outcome.passed }) {
            throw ExitCode(1)
        }
    }
}
