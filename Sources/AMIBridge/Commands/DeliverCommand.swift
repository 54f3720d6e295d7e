import ArgumentParser
import CRMSink
import EventLog
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `amibridge deliver`: webhooks from the event log (NATS JetStream) to every configured endpoint,
/// through one durable consumer per endpoint shared by every process running it: run it on as
/// many machines as you like; each event is delivered by one of them, and what a dead process
/// held goes to another after `nats.deliver_ack_wait_ms`. See ``EventLogDeliverer``.
///
/// Dead letters are kept in `<state_dir>/deliver/outbox.sqlite3`:
/// `amibridge outbox list --state-dir <state_dir>/deliver`, and `outbox retry` there re-drives them
/// (this process sends them).
struct DeliverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: "Deliver webhooks from the NATS JetStream event log (several processes share the work).",
        discussion: "Needs nats.urls and webhooks.endpoints (JSON endpoints without wait_for_disposition). The bridges publishing into the stream keep delivering from their own outbox unless their endpoints are configured elsewhere."
    )

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String = "/etc/amibridge/amibridge.yaml"

    @Option(help: "Serve /metrics and /healthz on this host:port (e.g. 127.0.0.1:9102); off when not given.")
    var metricsListen: String?

    func run() async throws {
        // deliver never connects to Asterisk: a file (and environment) made for it alone needs no
        // ami section, so what that section must have is filled in when missing.
        var environment = ProcessInfo.processInfo.environment
        for (key, placeholder) in ["AMI_HOST": "127.0.0.1", "AMI_USERNAME": "unused-by-deliver", "AMI_SECRET": "unused-by-deliver"]
        where environment[key] == nil {
            environment[key] = placeholder
        }
        let loaded = try await DaemonConfiguration.loadOrExit(path: config, environment: environment)
        guard let nats = loaded.nats else { throw Self.configurationError("nats.urls", "deliver reads the event log: name its servers") }
        let endpoints = loaded.webhooks.endpoints
        guard !endpoints.isEmpty else { throw Self.configurationError("webhooks.endpoints", "deliver needs at least one endpoint") }
        for endpoint in endpoints {
            if let problem = EventLogDeliverer.unsupported(endpoint) { throw Self.configurationError("webhooks.\(endpoint.name)", problem) }
        }
        let metrics = BridgeMetrics()
        metrics.bootstrap()
        let bridge = loaded.bridge
        LoggingBootstrap.bootstrap(level: bridge.logLevel, format: bridge.logFormat, maskPhoneNumbers: bridge.maskPhoneNumbers)
        let logger = Logger(label: "amibridge.deliver")

        let directory = (loaded.webhooks.stateDirectory as NSString).appendingPathComponent("deliver")
        let deadLetters = try RunCommand.openInStateDirectory("the dead-letter outbox", directory, Outbox.init(stateDirectory:))
        let connection = try await JetStreamConnection.connect(configuration: nats.connection, logger: Logger(label: "amibridge.nats"))
        let deliverer = EventLogDeliverer(
            connection: connection, stream: nats.stream.name, endpoints: endpoints, deadLetters: deadLetters,
            configuration: nats.deliver, logger: Logger(label: "amibridge.webhooks")
        )
        // Dead letters re-driven with `amibridge outbox retry` are sent from the local outbox.
        let redriven = WebhookDispatcher(
            outbox: deadLetters, endpoints: endpoints, configuration: .init(workers: 1, pollInterval: loaded.webhooks.dispatcher.pollInterval),
            logger: Logger(label: "amibridge.webhooks")
        )
        logger.info("amibridge deliver starting", metadata: [
            "stream": "\(nats.stream.name)", "endpoints": "\(endpoints.map(\.name).joined(separator: ","))",
            "consumers": "\(endpoints.map { EventLogDeliverer.consumerName($0.name) }.joined(separator: ","))",
        ])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: redriven), .init(service: deliverer)]
        if let metricsListen {
            services.append(.init(service: try Self.metricsServer(metricsListen, metrics: metrics, logger: logger)))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.info("amibridge deliver stopped")
    }

    /// `/metrics` (the webhook series, `amibridge_nats_consumer_pending`) and `/healthz`, no key:
    /// bind it to loopback or a monitoring network.
    private static func metricsServer(_ listen: String, metrics: BridgeMetrics, logger: Logger) throws -> some Service {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw configurationError("--metrics-listen", "'\(listen)' is not host:port")
        }
        let router = Router()
        router.get("healthz") { _, _ in Response.json(["status": "ok"]) }
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: try await metrics.exposition()))
            )
        }
        let host = String(listen[..<colon])
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                logger.info("metrics listening", metadata: ["port": "\(channel.localAddress?.port ?? port)"])
            },
            logger: logger
        )
        return StageRunner {
            try await ListenFailure.exitOnFailure(setting: "--metrics-listen", host: host, port: port, logger: logger) { try await application.run() }
        }
    }

    private static func configurationError(_ key: String, _ problem: String) -> ExitCode {
        FileHandle.standardError.write(Data("amibridge: \(key): \(problem)\n".utf8))
        return ExitCode(78) // EX_CONFIG
    }
}
