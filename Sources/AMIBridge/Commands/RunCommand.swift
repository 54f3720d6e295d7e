import AMIProtocol
import ArgumentParser
import CRMSink
import EventMapper
import Foundation
import Logging
import MariaDB
import ServiceLifecycle
import UnixSignals
import ViciDial

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: keep every AMI server connected and follow its events."
    )

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String = "/etc/amibridge/amibridge.yaml"

    func run() async throws {
        let loaded = try await DaemonConfiguration.loadOrExit(path: config)
        // From here on SIGHUP reloads the webhook endpoints instead of ending the process.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let metrics = BridgeMetrics()
        metrics.bootstrap() // before the parts that record metrics are made
        let bridge = loaded.bridge
        LoggingBootstrap.bootstrap(level: bridge.logLevel, format: bridge.logFormat, maskPhoneNumbers: bridge.maskPhoneNumbers)
        let daemon = try await BridgeDaemon(configuration: loaded, configPath: config, hangupSignals: hangups, metrics: metrics)
        daemon.logger.info("amibridge starting", metadata: [
            "servers": "\(bridge.amiServers.map { "\($0.name)=\($0.host):\($0.port)" }.joined(separator: ","))",
        ])
        try await daemon.run()
        daemon.logger.info("amibridge stopped")
    }
}

extension RunCommand {
    /// Opens a store in `state_dir`, or fails the start with one line naming what and where.
    static func openInStateDirectory<Store>(_ what: String, _ directory: String, _ open: (String) throws -> Store) throws -> Store {
        do {
            return try open(directory)
        } catch {
            FileHandle.standardError.write(Data("amibridge: state_dir: cannot open \(what) in \(directory) (\(error))\n".utf8))
            throw ExitCode(73) // EX_CANTCREAT
        }
    }
}

enum LoggingBootstrap {
    static func bootstrap(level: Logger.Level, format: BridgeConfiguration.LogFormat, maskPhoneNumbers: Bool = false) {
        LoggingSystem.bootstrap { label in
            let handler: any LogHandler
            switch format {
            case .json:
                handler = JSONLogHandler(label: label, level: level)
            case .text:
                var text = StreamLogHandler.standardOutput(label: label)
                text.logLevel = level
                handler = text
            }
            return maskPhoneNumbers ? PhoneMaskingLogHandler(wrapped: handler) : handler
        }
    }
}
