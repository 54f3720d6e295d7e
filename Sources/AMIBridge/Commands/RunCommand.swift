import AMIProtocol
import ArgumentParser
import CRMSink
import EventMapper
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: keep every AMI server connected and follow its events."
    )

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String = "/etc/amibridge/amibridge.yaml"

    func run() async throws {
        let loaded = try await DaemonConfiguration.loadOrExit(path: config)
        let (configuration, webhooks, api, clickToCall) = (loaded.bridge, loaded.webhooks, loaded.api, loaded.clickToCall)
        // From here on SIGHUP reloads the webhook endpoints instead of ending the process.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let metrics = BridgeMetrics()
        metrics.bootstrap() // before the parts that record metrics are made
        LoggingBootstrap.bootstrap(level: configuration.logLevel, format: configuration.logFormat, maskPhoneNumbers: configuration.maskPhoneNumbers)
        let logger = Logger(label: "amibridge")

        let events = AMIEventStream(capacity: configuration.eventBufferCapacity, logger: Logger(label: "amibridge.ami"))
        let clients = configuration.amiServers.map { AMIClient(configuration: $0, events: events, logger: Logger(label: "amibridge.ami")) }
        let clientsByName = Dictionary(uniqueKeysWithValues: clients.map { ($0.configuration.name, $0) })
        let now: @Sendable () -> Double = { Date().timeIntervalSince1970 }

        var enricher: CallEnricher?
        var watcher: DispositionWatcher?
        var databasePool: MariaDBPool?
        var repository: ViciDialRepository?
        if let database = configuration.vicidialDatabase {
            let pool = MariaDBPool(configuration: database, size: 2)
            databasePool = pool
            let vicidial = ViciDialRepository(database: pool)
            repository = vicidial
            enricher = CallEnricher(repository: vicidial, configuration: configuration.enrichment)
            watcher = DispositionWatcher(repository: vicidial, configuration: configuration.dispositions)
        } else {
            logger.notice("no vicidial.db configured: webhooks carry the call's own fields, no lead or disposition")
        }
        // The outbox first: an event counts as emitted once it is on disk there.
        let outbox = try Self.openInStateDirectory("the outbox", webhooks.stateDirectory, Outbox.init(stateDirectory:))
        let webhookLogger = Logger(label: "amibridge.webhooks")
        let emitter = WebhookEmitter(outbox: outbox, endpoints: webhooks.endpoints)
        let dispatcher = WebhookDispatcher(outbox: outbox, endpoints: webhooks.endpoints, configuration: webhooks.dispatcher, logger: webhookLogger)
        if webhooks.endpoints.isEmpty {
            logger.notice("no webhooks.endpoints configured: calls are followed and logged, nothing is sent")
        }
        let clickToCallLogger = Logger(label: "amibridge.click2call")
        let clickToCallRegistry = ClickToCallRegistry(limits: .init(
            retention: .seconds(clickToCall.statusRetentionMinutes * 60), maximumCalls: clickToCall.maximumRememberedCalls
        ))
        let pipeline = CallPipeline(
            enricher: enricher,
            watcher: watcher,
            callLog: CallLog(logger: Logger(label: "amibridge.calls")),
            logger: Logger(label: "amibridge.vicidial"),
            now: now
        ) { event in
            if event.name == .dispositionSet, let callID = event.click2callID {
                clickToCallRegistry.dispositionSet(callID: callID, disposition: event.disposition)
            }
            do {
                try await emitter.emit(event)
                webhookLogger.debug("webhook queued", metadata: [
                    "event": "\(event.name.rawValue)", "event_id": "\(event.eventID)", "linkedid": "\(event.linkedid ?? "")",
                ])
            } catch {
                // The outbox is the one thing that must not fail; say so loudly (the call is in the log).
                webhookLogger.critical("could not store a webhook in the outbox", metadata: [
                    "event": "\(event.name.rawValue)", "event_id": "\(event.eventID)", "error": "\(error)",
                ])
            }
        }
        let consumer = CallTrackingService(
            events: events,
            configuration: .init(tracker: { server in
                CallTracker.Configuration(server: server, originateResponseTimeout: Double(clickToCall.responseTimeoutSeconds))
            }),
            listChannels: { server in
                guard let client = clientsByName[server] else { return [] }
                return try await client.send(.coreShowChannels).listItems
            },
            now: now
        ) { update in
            let hangups = clickToCallRegistry.apply(update)
            await ClickToCallService.sendDeferredHangups(hangups, servers: clients, logger: clickToCallLogger)
            await pipeline.handle(update)
        }
        metrics.collectActiveCalls(consumer)
        // Its own connection: counting rows for /metrics never waits for the dispatcher's writes.
        let countingOutbox = try? Outbox(stateDirectory: webhooks.stateDirectory)
        let reloader = WebhookReloader(
            hangups: hangups, endpoints: webhooks.endpoints, dispatcher: dispatcher, emitter: emitter,
            owed: { (try? countingOutbox?.counts())?[$0]?.owed },
            logger: webhookLogger
        ) { [config] in try await WebhookConfiguration.load(path: config) }
        if let countingOutbox { metrics.collectOutbox(countingOutbox) { reloader.endpointNames } }
        let keyStore = try Self.openInStateDirectory("the API key store", api.stateDirectory, APIKeyStore.init(stateDirectory:))
        let apiServer = APIServer(
            configuration: api,
            keyStore: keyStore,
            readinessChecks: Readiness.checks(clients: clients, database: databasePool, stateDirectory: webhooks.stateDirectory),
            vicidial: repository,
            clickToCall: ClickToCallService(
                configuration: clickToCall,
                registry: clickToCallRegistry,
                tracking: consumer,
                servers: clients,
                lookUpAgentPhone: repository.map(ClickToCallService.agentPhoneLookup),
                logger: clickToCallLogger
            ),
            metrics: metrics
        )

        logger.info("amibridge starting", metadata: [
            "servers": "\(configuration.amiServers.map { "\($0.name)=\($0.host):\($0.port)" }.joined(separator: ","))",
        ])
        let group = ServiceGroup(
            configuration: .init(
                // Started in this order, stopped in reverse: the dispatcher goes last, after the
                // AMI clients and the pipeline have handed it everything.
                services: [.init(service: dispatcher)] + clients.map { .init(service: $0) }
                    + [.init(service: consumer), .init(service: pipeline), .init(service: apiServer), .init(service: reloader)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        logger.info("amibridge stopped")
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
