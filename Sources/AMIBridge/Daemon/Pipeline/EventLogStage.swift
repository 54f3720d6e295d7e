import CRMSink
import CoreMetrics
import EventLog
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Publishes the events the pipeline stored for the event log (the outbox's `publications`) to
/// NATS JetStream, oldest first, one at a time, each with `Nats-Msg-Id` = its `event_id`.
///
/// The outbox is the source of truth: a row leaves it only once the stream has acknowledged it
/// (stored, or a duplicate ack: a message with that id was already stored within the stream's
/// duplicate window, e.g. by the other bridge watching the same dialers). A failed publish (NATS
/// down, no quorum, a timeout) keeps the row and every later one, and is retried with backoff
/// (200 ms doubling to 10 s), so a NATS outage loses nothing and only delays the stream; the
/// webhooks, delivered from the same outbox by the dispatcher, never wait for it. Publishing in
/// id order and stopping at the first failure keeps the stream in the order the bridge stored
/// its events, so each call's events are in order in the stream.
///
/// Publishes block on libnats, so they run on a thread of this stage's own, never on Swift's
/// cooperative pool. On graceful shutdown the publish in progress finishes; what is left stays
/// in the outbox for the next start (a crash between the ack and the delete only means a
/// duplicate ack then).
final class EventLogStage: Service, Sendable {
    /// What `/readyz`, `amibridge check` and the status page say of the event log.
    struct Health: Sendable, Equatable {
        var connected = false
        /// The last publish's error, nil once one succeeds again.
        var lastError: String?
        var lastPublishedAt: Date?
        var published = 0
        var duplicates = 0
        var failures = 0
    }

    let configuration: NATSConfiguration
    let connection: JetStreamConnection
    private let outbox: Outbox
    private let logger: Logger
    /// The publisher thread's waits: for new rows (the outbox's enqueue observer wakes it), a backoff, the stop.
    private let core = ThreadSignal()
    private let health = NIOLockedValueBox(Health())
    private let metrics: Metrics

    init(configuration: NATSConfiguration, connection: JetStreamConnection, outbox: Outbox, logger: Logger) {
        self.configuration = configuration
        self.connection = connection
        self.outbox = outbox
        self.logger = logger
        self.metrics = Metrics()
        outbox.addEnqueueObserver { [core] in core.wake() }
    }

    var currentHealth: Health {
        var health = self.health.withLockedValue { $0 }
        health.connected = connection.isConnected
        return health
    }

    /// The status page's event-log line; `pending` is the outbox's publication backlog.
    func statusReading(pending: Int) -> StatusSnapshot.EventLog {
        let health = currentHealth
        return StatusSnapshot.EventLog(
            connected: health.connected, server: health.connected ? connection.connectedURL : nil, stream: configuration.stream.name,
            published: health.published, duplicates: health.duplicates, failures: health.failures, pending: pending,
            lastPublishedAt: health.lastPublishedAt?.timeIntervalSince1970, lastError: health.lastError
        )
    }

    /// `/readyz`'s `nats`: not ready while no NATS server is connected or the last publish failed
    /// (the webhooks still flow; events wait in the outbox).
    var readiness: ReadinessState {
        let health = currentHealth
        guard health.connected else { return .notReady(reason: "no NATS server connected; events wait in the outbox") }
        if let error = health.lastError { return .notReady(reason: "publish failing: \(error)") }
        return .ready
    }

    func run() async throws {
        await runOnThreadsUntilShutdown(start: { finished in
            let thread = Thread {
                Thread.current.name = "amib.nats.pub"
                self.publishLoop()
                finished()
            }
            thread.start()
        }, stop: { self.core.stop() })
    }

    // MARK: The publisher thread

    private func publishLoop() {
        var streak = FailureStreak(initial: configuration.retryInitial, maximum: configuration.retryMax)
        var streamReady = !configuration.manageStream
        while !core.isStopped {
            if !streamReady {
                do {
                    try connection.ensureStreamBlocking(configuration.stream)
                    streamReady = true
                    streak.succeeded()
                } catch {
                    let (log, wait) = streak.failed()
                    if log {
                        logger.error("cannot set up the JetStream stream; events wait in the outbox", metadata: [
                            "stream": "\(configuration.stream.name)", "error": "\(error)", "attempts": "\(streak.count)",
                        ])
                    }
                    core.pause(wait)
                    continue
                }
            }
            let rows: [OutboxPublication]
            do {
                rows = try outbox.pendingPublications(limit: 256)
            } catch {
                logger.error("cannot read the outbox's publications", metadata: ["error": "\(error)"])
                core.pause(.seconds(1))
                continue
            }
            if rows.isEmpty {
                core.waitForWork(upTo: .seconds(1))
                continue
            }
            let (acked, failed) = publish(rows)
            do {
                try outbox.recordPublished(acked, failed: failed)
            } catch {
                // The rows stay; they go out again (duplicate acks).
                logger.error("cannot record published events", metadata: ["error": "\(error)", "count": "\(acked.count)"])
            }
            if let failed {
                let (log, wait) = streak.failed()
                if log {
                    logger.warning("publishing to NATS failed; events wait in the outbox and are retried", metadata: [
                        "error": "\(failed.error)", "attempts": "\(streak.count)", "retry_in_ms": "\(wait / .milliseconds(1))",
                    ])
                }
                core.pause(wait)
            } else if case let failures = streak.succeeded(), failures > 0 {
                logger.notice("publishing to NATS again", metadata: ["failed_attempts": "\(failures)"])
            }
        }
    }

    /// Publishes `rows` in order until one fails: the ids acknowledged, and the failed one.
    private func publish(_ rows: [OutboxPublication]) -> (acked: [Int64], failed: (id: Int64, error: String)?) {
        if configuration.publishWindow > 1 { return publishPipelined(rows) }
        var acked: [Int64] = []
        for row in rows {
            if core.isStopped { break }
            let started = ContinuousClock.now
            do {
                let ack = try connection.publishBlocking(
                    subject: row.subject, body: row.body, msgID: row.eventID.uuidString.lowercased(), timeout: configuration.publishTimeout
                )
                recordAck(ack, seconds: ContinuousClock.now - started)
                acked.append(row.id)
            } catch {
                recordFailure(error)
                return (acked, (row.id, "\(error)"))
            }
        }
        return (acked, nil)
    }

    /// ``publish(_:)`` with `publishWindow` publishes in flight at once. Every acknowledged row is
    /// done, also one behind a failure (the stream has it); the first failure is retried.
    private func publishPipelined(_ rows: [OutboxPublication]) -> (acked: [Int64], failed: (id: Int64, error: String)?) {
        var acked: [Int64] = []
        var start = rows.startIndex
        while start < rows.endIndex, !core.isStopped {
            let window = rows[start..<min(start + configuration.publishWindow, rows.endIndex)]
            start = window.endIndex
            let started = ContinuousClock.now
            let outcomes = connection.publishBatchBlocking(
                window.map { .init(subject: $0.subject, body: $0.body, msgID: $0.eventID.uuidString.lowercased()) },
                timeout: configuration.publishTimeout
            )
            // One observation per message: the window's time shared among them.
            let each = (ContinuousClock.now - started) / max(1, window.count)
            var failed: (id: Int64, error: String)?
            for (row, outcome) in zip(window, outcomes) {
                switch outcome {
                case .success(let ack):
                    recordAck(ack, seconds: each)
                    acked.append(row.id)
                case .failure(let error):
                    recordFailure(error)
                    if failed == nil { failed = (row.id, "\(error)") }
                }
            }
            if let failed { return (acked, failed) }
        }
        return (acked, nil)
    }

    private func recordAck(_ ack: JetStreamConnection.PublishAck, seconds: Duration) {
        metrics.published(ack, seconds: seconds)
        health.withLockedValue { health in
            health.lastError = nil
            health.lastPublishedAt = Date()
            if ack.duplicate { health.duplicates += 1 } else { health.published += 1 }
        }
    }

    private func recordFailure(_ error: any Error) {
        metrics.failed()
        health.withLockedValue { $0.lastError = "\(error)"; $0.failures += 1 }
    }

    /// Failures in a row and the wait after each: doubling from `initial` to `maximum`, back to
    /// `initial` after a success. Only the first failure of a streak and every 60th are worth a log line.
    struct FailureStreak {
        let initial: Duration
        let maximum: Duration
        private(set) var count = 0
        private var delay: Duration

        init(initial: Duration, maximum: Duration) {
            self.initial = initial
            self.maximum = maximum
            self.delay = initial
        }

        mutating func failed() -> (log: Bool, wait: Duration) {
            count += 1
            defer { delay = min(delay * 2, maximum) }
            return (count == 1 || count % 60 == 0, delay)
        }

        /// Ends the streak; returns how long it was.
        @discardableResult
        mutating func succeeded() -> Int {
            defer { count = 0; delay = initial }
            return count
        }
    }

    /// `amibridge_nats_publish_seconds`, `amibridge_nats_published_total{result}`: handles made once.
    private struct Metrics: Sendable {
        let seconds = CoreMetrics.Timer(label: "amibridge_nats_publish_seconds")
        let ack = Counter(label: "amibridge_nats_published_total", dimensions: [("result", "ack")])
        let duplicate = Counter(label: "amibridge_nats_published_total", dimensions: [("result", "duplicate")])
        let error = Counter(label: "amibridge_nats_published_total", dimensions: [("result", "error")])

        func published(_ ack: JetStreamConnection.PublishAck, seconds: Duration) {
            self.seconds.recordNanoseconds(seconds.components.seconds * 1_000_000_000 + seconds.components.attoseconds / 1_000_000_000)
            (ack.duplicate ? duplicate : self.ack).increment()
        }

        func failed() { error.increment() }
    }
}

extension BridgeMetrics {
    /// `amibridge_nats_pending`: events stored for the event log and not yet acknowledged by the
    /// stream, counted at each scrape (on `outbox`, a connection of its own).
    func collectEventLogBacklog(_ outbox: Outbox) {
        let gauge = Gauge(label: "amibridge_nats_pending", factory: factory)
        addCollector {
            guard let backlog = try? outbox.publicationBacklog() else { return }
            gauge.record(backlog.count)
        }
    }
}
