import AMIProtocol
import CRMSink
import EventLog
import EventMapper
import Foundation
import Logging
import MariaDB
import ServiceLifecycle
import UnixSignals
import ViciDial

/// The daemon, assembled: every stage of the call pipeline and the services around it, and the
/// order they start and stop in.
///
/// ```
/// AMI clients ─▶ AMIEventStream ─▶ tracker ─▶ StageQueue ─▶ emit ─▶ outbox ─▶ dispatcher ─▶ CRMs
///                 (backpressure)   (pure, no I/O)            │  ▲ one transaction per batch
///                                                            ├─▶ ViciDial join ─▶ disposition watch
///                                                            ├─▶ hangups (AMI round trips)
///                                                            └─▶ outage sweeps (database)
/// ```
/// Each stage owns its state and hands work forward through a bounded queue, so a slow disk,
/// database or AMI round trip never stalls the reading of events. Calls waiting for their
/// ViciDial row or disposition are held in the outbox's database and resumed at start.
///
/// Start order is the list in ``services``; stop order is its reverse: the API and the AMI
/// clients stop first, the tracker applies what they read, the emit stage stores it, the waits
/// stop polling (their calls are on disk), and the dispatcher stops last.
struct BridgeDaemon {
    let services: [ServiceGroupConfiguration.ServiceConfiguration]
    let logger: Logger

    init(configuration loaded: DaemonConfiguration, configPath: String, hangupSignals: UnixSignalsSequence, metrics: BridgeMetrics, clock: any EpochClock = SystemEpochClock()) async throws {
        let (configuration, webhooks, api, clickToCall) = (loaded.bridge, loaded.webhooks, loaded.api, loaded.clickToCall)
        let logger = Logger(label: "amibridge")
        self.logger = logger

        let events = AMIEventStream(capacity: configuration.eventBufferCapacity, logger: Logger(label: "amibridge.ami"))
        let clients = configuration.amiServers.map { AMIClient(configuration: $0, events: events, logger: Logger(label: "amibridge.ami")) }
        let clientsByName = Dictionary(uniqueKeysWithValues: clients.map { ($0.configuration.name, $0) })

        // The outbox first: an event counts as emitted once it is on disk there.
        let outbox = try RunCommand.openInStateDirectory("the outbox", webhooks.stateDirectory, Outbox.init(stateDirectory:))
        let webhookLogger = Logger(label: "amibridge.webhooks")
        let emitter = WebhookEmitter(outbox: outbox, endpoints: webhooks.endpoints)
        // What the status page shows: the dispatcher's last attempts, the calls the stages hold.
        let deliveryHistory = DeliveryHistory()
        let statusBoard = StatusBoard(completedCallsAreHeld: configuration.vicidialDatabase != nil)
        let dispatcher = WebhookDispatcher(
            outbox: outbox, endpoints: webhooks.endpoints, configuration: webhooks.dispatcher, history: deliveryHistory, logger: webhookLogger
        )
        if webhooks.endpoints.isEmpty {
            logger.notice("no webhooks.endpoints configured: calls are followed and logged, nothing is sent")
        }
        let pipelineOutbox = PipelineOutbox(outbox: outbox, emitter: emitter, clock: clock, logger: webhookLogger, status: statusBoard)
        // The event log on NATS JetStream, when `nats.urls` is set: every event is also stored for
        // publishing, in the same transaction as its webhooks, and published by its own stage.
        var eventLog: EventLogStage?
        if let nats = loaded.nats {
            emitter.updateEventLog(nats.route)
            let connection = try await JetStreamConnection.connect(configuration: nats.connection, logger: Logger(label: "amibridge.nats"))
            eventLog = EventLogStage(configuration: nats, connection: connection, outbox: outbox, logger: Logger(label: "amibridge.nats"))
        }

        let clickToCallLogger = Logger(label: "amibridge.click2call")
        let clickToCallRegistry = ClickToCallRegistry(limits: .init(
            retention: .seconds(clickToCall.statusRetentionMinutes * 60), maximumCalls: clickToCall.maximumRememberedCalls
        ))

        // The ViciDial stages, when there is a database.
        let vicidialLogger = Logger(label: "amibridge.vicidial")
        var databasePool: MariaDBPool?
        var repository: ViciDialRepository?
        var join: ViciDialJoinStage?
        var answers: AnswerJoinStage?
        var sweep: OutageSweepStage?
        let outages = StageQueue<OutageSweepStage.Outage>(capacity: 1_000)
        let recentUniqueids = RecentSet(capacity: 100_000)
        let pollInterval = Duration.seconds(1)
        if let database = configuration.vicidialDatabase {
            let pool = MariaDBPool(configuration: database, size: 2)
            databasePool = pool
            let vicidial = ViciDialRepository(database: pool)
            repository = vicidial
            let dispositions = DispositionStage(
                watcher: DispositionWatcher(repository: vicidial, configuration: configuration.dispositions),
                outbox: pipelineOutbox, clickToCall: clickToCallRegistry, clock: clock, pollInterval: pollInterval, logger: vicidialLogger
            )
            let joinStage = ViciDialJoinStage(
                enricher: CallEnricher(repository: vicidial, configuration: configuration.enrichment),
                dispositions: dispositions, outbox: pipelineOutbox, clock: clock, pollInterval: pollInterval, logger: vicidialLogger
            )
            join = joinStage
            answers = AnswerJoinStage(
                repository: vicidial, configuration: configuration.answers, outbox: pipelineOutbox, clock: clock, logger: vicidialLogger
            )
            sweep = OutageSweepStage(
                outages: outages, repository: vicidial, join: joinStage, outbox: pipelineOutbox,
                recentUniqueids: recentUniqueids, clock: clock, logger: vicidialLogger
            )
            // Calls that were waiting when the bridge last stopped wait again, before any new call.
            let (heldRows, heldDispositions) = (try outbox.heldCalls(.viciDialRow), try outbox.heldCalls(.disposition))
            statusBoard.resumed(heldRows + heldDispositions)
            let rows = await joinStage.resumeHeldCalls(heldRows)
            let dispos = await dispositions.resumeHeldCalls(heldDispositions)
            if rows + dispos > 0 {
                vicidialLogger.notice("resumed calls held at the last stop", metadata: ["waiting_for_row": "\(rows)", "waiting_for_disposition": "\(dispos)"])
            }
        } else {
            logger.notice("no vicidial.db configured: webhooks carry the call's own fields, no lead or disposition")
            let held = (try? outbox.heldCallCounts()) ?? [:]
            if !held.isEmpty {
                logger.warning("calls held at the last stop wait for a ViciDial database that is no longer configured", metadata: [
                    "held": "\(held.values.reduce(0, +))",
                ])
            }
        }

        // Answered calls whose call_answered was not stored at the last stop: their wait resumes
        // (it has mostly ended: they go out at once), or without a database they go out now.
        let heldAnswers = try outbox.heldCalls(.answer)
        if let answers {
            _ = await answers.resumeHeldCalls(heldAnswers)
        } else if !heldAnswers.isEmpty {
            let calls = heldAnswers.decoded(as: CallRecord.self, logger: logger).map(\.call)
            await pipelineOutbox.store(calls.map { .callAnswered($0) }, releasing: calls.map { .answerWaitEnded($0) })
        }

        // Bounded in calls, not bytes: a CallRecord with its legs is a few hundred bytes to a few KB.
        let updates = StageQueue<CallUpdate>(capacity: 10_000)
        let hangups = StageQueue<ClickToCallRegistry.DeferredHangup>(capacity: 10_000)
        let emit = EmitStage(
            updates: updates, outbox: pipelineOutbox, join: join, clickToCall: clickToCallRegistry, hangups: hangups,
            outages: sweep == nil ? nil : outages, recentUniqueids: recentUniqueids,
            callLog: CallLog(logger: Logger(label: "amibridge.calls")), clock: clock, status: statusBoard, answers: answers
        )
        let tracker = CallTrackingService(
            events: events,
            configuration: .init(tracker: { server in
                CallTracker.Configuration(server: server, originateResponseTimeout: Double(clickToCall.responseTimeoutSeconds))
            }),
            listChannels: { server in
                guard let client = clientsByName[server] else { return [] }
                return try await client.send(.coreShowChannels).listItems
            },
            clock: clock
        ) { await updates.send($0) }
        metrics.collectActiveCalls(tracker)
        metrics.collectHeldCalls(outbox)

        // Its own connection: counting rows for /metrics never waits for the dispatcher's writes.
        let countingOutbox = try? Outbox(stateDirectory: webhooks.stateDirectory)
        // A reload checks the whole file as a start does (unknown keys, types), then applies the endpoints.
        let reloader = WebhookReloader(
            hangups: hangupSignals, endpoints: webhooks.endpoints, dispatcher: dispatcher, emitter: emitter,
            owed: { (try? countingOutbox?.counts())?[$0]?.owed },
            logger: webhookLogger
        ) { try await DaemonConfiguration.load(path: configPath).webhooks }
        if let countingOutbox { metrics.collectOutbox(countingOutbox) { reloader.endpointNames } }
        if let countingOutbox, eventLog != nil { metrics.collectEventLogBacklog(countingOutbox) }
        // Asks the database every 15 s on a connection of its own: /readyz and amibridge_vicidial_db_up.
        let databaseProbe = databasePool.map { DatabaseProbe(configuration: $0.configuration, clock: clock) }
        let keyStore = try RunCommand.openInStateDirectory("the API key store", api.stateDirectory, APIKeyStore.init(stateDirectory:))
        let publisher = eventLog
        let apiServer = APIServer(
            configuration: api,
            keyStore: keyStore,
            readinessChecks: Readiness.checks(
                clients: clients, databaseProbe: databaseProbe, stateDirectory: webhooks.stateDirectory, eventLog: eventLog
            ),
            vicidial: repository,
            clickToCall: ClickToCallService(
                configuration: clickToCall,
                registry: clickToCallRegistry,
                tracking: tracker,
                servers: clients,
                lookUpAgentPhone: repository.map(ClickToCallService.agentPhoneLookup),
                logger: clickToCallLogger
            ),
            metrics: metrics,
            status: StatusService(
                configuration: .init(maskPhoneNumbers: configuration.maskPhoneNumbers),
                board: statusBoard, history: deliveryHistory, servers: StatusService.readings(clients),
                outbox: countingOutbox, retryOutbox: outbox, endpoints: { reloader.endpointNames },
                eventLog: { publisher.map { $0.statusReading(pending: (try? countingOutbox?.publicationBacklog().count) ?? 0) } }, clock: clock
            )
        )

        // Started in this order, stopped in reverse (ServiceGroup waits for each to end before
        // stopping the next): every stage stops after the stages that feed it. A stage whose input
        // ends first finishes its work, then waits for its own turn to stop (ServiceGroup treats an
        // early return during shutdown as a failure).
        var stages: [any Service] = []
        if let join { stages += [join.dispositions, join] }
        // Stopped after the emit stage: its last batches may still hand over answered calls.
        if let answers { stages.append(answers) }
        stages.append(HangupStage(hangups: hangups, servers: clients, logger: clickToCallLogger))
        if let sweep { stages.append(sweep) }
        stages.append(emit)
        // The tracker's queue ends when the tracker does: the emit stage then stores the rest.
        stages.append(StageRunner { try await tracker.run(); updates.finish() })
        // The event-log publisher stops last with the dispatcher: it drains what the stages stored.
        self.services = [.init(service: dispatcher)] + (eventLog.map { [.init(service: $0)] } ?? [])
            + stages.map { .init(service: $0) }
            + (clients as [any Service] + [apiServer, reloader] + (databaseProbe.map { [$0] } ?? [])).map { .init(service: $0) }
    }

    func run() async throws {
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}

/// A stage whose run is a closure (and what must follow it).
struct StageRunner: Service {
    let body: @Sendable () async throws -> Void
    func run() async throws { try await body() }
}
