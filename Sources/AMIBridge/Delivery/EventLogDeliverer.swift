import CRMSink
import CoreMetrics
import EventLog
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Delivers webhooks from the event log (NATS JetStream) instead of the local outbox: one durable
/// pull consumer per endpoint (`amibridge-<endpoint>`), shared by every process that delivers
/// (`amibridge deliver` on several machines). A message is acknowledged once its endpoint took it;
/// one whose holder dies goes out again after the ack wait.
///
/// Ordered mode (the default): one process at a time fetches for an endpoint, holding a lease in
/// the `amibridge_deliver` key-value bucket; the others stand by and take over when it lapses,
/// after letting the dead holder's messages come back first. So every call's events reach the
/// endpoint in stream order, whichever process sends them. Shared mode: every process fetches
/// (more throughput; order holds within a process).
///
/// Per endpoint, one thread fetches (one message at a time, see ``JetStreamConsumer``) and hands
/// each message to one of `lanes` threads by its call: a call's events go through one lane, in
/// stream order. A failed delivery is retried in its lane with the endpoint's backoff (the
/// message reported in progress meanwhile, so the server keeps it here); the lanes of other
/// calls go on. After `max_attempts` or `max_age` it is a dead letter: written to `deadLetters`
/// (an outbox: `amibridge outbox list|retry` as usual, its dispatcher sends what is re-driven)
/// and terminated in the stream.
///
/// Graceful shutdown: fetching stops, each lane finishes the request it is making; a message
/// waiting to retry is handed back (nak); then the lease is released, so a standby takes over at once.
final class EventLogDeliverer: Service, Sendable {
    struct Configuration: Sendable, Equatable {
        enum Mode: String, Sendable, Equatable {
            /// One process at a time delivers an endpoint (a lease); the others stand by to take over.
            /// Every call's events reach the endpoint in stream order.
            case ordered
            /// Every process fetches: more throughput, but a call's events can overlap between two
            /// processes while one of them retries (order holds within a process).
            case shared
        }

        /// Default ordered.
        var mode = Mode.ordered
        /// Ordered mode: how long the lease outlives its holder's last renewal (renewed every third). Default 10 s.
        var leaseTTL: Duration = .seconds(10)
        /// Replicas of the lease bucket (the stream's). Default 1.
        var replicas = 1
        /// Threads per endpoint, each delivering one call's events at a time. Default 4.
        var lanes = 4
        /// How long a fetch waits for a message before asking again (and looking at the stop flag). Default 1 s.
        var fetchTimeout: Duration = .seconds(1)
        /// How long the server lets a process hold a message without a word from it; a waiting retry
        /// reports progress several times within it. Default 30 s.
        var ackWait: Duration = .seconds(30)
        /// At most this many messages per endpoint handed out and not yet acknowledged, over every
        /// delivering process. Default 1,000.
        var maxAckPending = 1000
        /// Between attempts to reach the consumer while NATS is down. Default 1 s.
        var reconnectWait: Duration = .seconds(1)
    }

    private let connection: JetStreamConnection
    private let stream: String
    private let endpoints: [WebhookEndpoint.Configuration]
    private let deadLetters: Outbox
    private let configuration: Configuration
    private let logger: Logger
    private let signal = ThreadSignal()

    /// `endpoints` must all be JSON endpoints without `wait_for_disposition` (see ``unsupported(_:)``).
    init(
        connection: JetStreamConnection, stream: String, endpoints: [WebhookEndpoint.Configuration], deadLetters: Outbox,
        configuration: Configuration = .init(), logger: Logger
    ) {
        self.connection = connection
        self.stream = stream
        self.endpoints = endpoints
        self.deadLetters = deadLetters
        self.configuration = configuration
        self.logger = logger
    }

    /// What an endpoint asks for that the event log cannot give it yet, or nil: the stream holds
    /// each event once, as JSON, so a ViciDial URL template (rendered from the event, not its JSON)
    /// and the `call_complete` merged with its disposition stay with the outbox (`amibridge run`).
    static func unsupported(_ endpoint: WebhookEndpoint.Configuration) -> String? {
        if endpoint.format != .json { return "format \(endpoint.format.rawValue) is delivered from the bridge's outbox only (amibridge run), not from the event log" }
        if endpoint.waitsForDisposition { return "wait_for_disposition is delivered from the bridge's outbox only (amibridge run), not from the event log" }
        return nil
    }

    /// The durable consumer's name for an endpoint.
    static func consumerName(_ endpoint: String) -> String {
        "amibridge-" + EventLogRoute.token(endpoint)
    }

    func run() async throws {
        await runOnThreadsUntilShutdown(start: { self.startThreads(onFinished: $0) }, stop: { self.signal.stop() })
    }

    private func startThreads(onFinished: @escaping @Sendable () -> Void) {
        guard !endpoints.isEmpty else { return onFinished() }
        let threads = endpoints.count * (1 + configuration.lanes)
        let exited = NIOLockedValueBox(0)
        let finishOne: @Sendable () -> Void = {
            if exited.withLockedValue({ $0 += 1; return $0 }) == threads { onFinished() }
        }
        for endpoint in endpoints {
            let lanes = (0..<configuration.lanes).map { _ in DeliveryLane(capacity: 64) }
            let lanesRunning = DispatchGroup()
            for (index, lane) in lanes.enumerated() {
                lanesRunning.enter()
                let thread = Thread {
                    Thread.current.name = "amib.deliver.\(index)"
                    self.deliver(lane, to: endpoint)
                    lanesRunning.leave()
                    finishOne()
                }
                thread.start()
            }
            let fetcher = Thread {
                Thread.current.name = "amib.fetch"
                let lease = self.fetch(for: endpoint, into: lanes)
                lanes.forEach { $0.finish() }
                // Given up only once the lanes are done: the next holder must not deliver a call's
                // later events while one of ours is still on its way.
                lanesRunning.wait()
                lease?.releaseBlocking()
                finishOne()
            }
            fetcher.start()
        }
    }

    // MARK: Fetching

    /// Fetches until shutdown; returns the lease it holds (ordered mode), to be released once the lanes are done.
    private func fetch(for endpoint: WebhookEndpoint.Configuration, into lanes: [DeliveryLane]) -> JetStreamLease? {
        var consumerConfiguration = JetStreamConsumer.Configuration(durable: Self.consumerName(endpoint.name))
        consumerConfiguration.stream = stream
        consumerConfiguration.ackWait = configuration.ackWait
        consumerConfiguration.maxAckPending = configuration.maxAckPending
        let lag = Gauge(label: "amibridge_nats_consumer_pending", dimensions: [("endpoint", endpoint.name)])
        let metadata: Logger.Metadata = ["endpoint": "\(endpoint.name)", "consumer": "\(consumerConfiguration.durable)", "stream": "\(stream)"]
        var consumer: JetStreamConsumer?
        var turn = configuration.mode == .ordered ? Turn(lease: nil, ttl: configuration.leaseTTL) : nil
        var failing = false
        while !signal.isStopped {
            do {
                if consumer == nil {
                    consumer = try JetStreamConsumer(connection: connection, configuration: consumerConfiguration)
                    logger.notice("delivering from the event log", metadata: metadata)
                }
                if turn != nil, try !takeTurn(&turn!, consumer: consumer!, durable: consumerConfiguration.durable, metadata: metadata) { continue }
                guard let message = try consumer!.nextBlocking(timeout: configuration.fetchTimeout) else {
                    if let state = try? consumer!.stateBlocking() { lag.record(Int64(state.pending)) }
                    continue
                }
                if failing {
                    failing = false
                    logger.notice("event log reachable again", metadata: metadata)
                }
                lag.record(Int64(message.pendingAfter))
                let item = StreamItem(message: message)
                lanes[Self.lane(for: item.callKey, count: lanes.count)].push(item)
            } catch {
                if !failing {
                    failing = true
                    var failure = metadata
                    failure["error"] = "\(error)"
                    logger.warning("cannot read the event log; trying again", metadata: failure)
                }
                if let error = error as? JetStreamError, error.code == .consume, consumer != nil, !connection.isConnected { consumer = nil }
                signal.pause(configuration.reconnectWait)
            }
        }
        return turn?.active == true ? turn?.lease : nil
    }

    /// Ordered mode: whether this process may fetch now. One process per endpoint holds the
    /// endpoint's lease (a key in the `amibridge_deliver` bucket) and fetches; the others try to
    /// take it every third of its TTL. A new holder first lets the messages a dead holder had
    /// come back (they go out again after the ack wait, before any newer message), so every
    /// call's events still reach the endpoint in stream order.
    struct Turn {
        var lease: JetStreamLease?
        let ttl: Duration
        var active = false
        var renewedAt = ContinuousClock.now
    }

    private func takeTurn(_ turn: inout Turn, consumer: JetStreamConsumer, durable: String, metadata: Logger.Metadata) throws -> Bool {
        if turn.lease == nil {
            turn.lease = try JetStreamLease(
                connection: connection, bucket: "amibridge_deliver", key: durable, holder: Self.holderID, ttl: turn.ttl, replicas: configuration.replicas
            )
        }
        let lease = turn.lease!
        if turn.active {
            guard ContinuousClock.now - turn.renewedAt >= turn.ttl / 3 else { return true }
            if try lease.renewBlocking() {
                turn.renewedAt = .now
                return true
            }
            turn.active = false
            logger.warning("lost the endpoint's delivery lease (no renewal within its TTL); another process may deliver now", metadata: metadata)
            return false
        }
        guard try lease.acquireBlocking() else {
            signal.pause(turn.ttl / 3)
            return false
        }
        turn.active = true
        turn.renewedAt = .now
        var taken = metadata
        taken["holder"] = "\(Self.holderID)"
        logger.notice("this process now delivers the endpoint (ordered: one at a time)", metadata: taken)
        // Messages a previous holder had are still unacknowledged: wait the ack wait for them to
        // come back first (renewing the lease meanwhile).
        if (try? consumer.stateBlocking().ackPending) ?? 0 > 0 {
            let until = ContinuousClock.now + configuration.ackWait
            while ContinuousClock.now < until, !signal.isStopped {
                signal.pause(min(turn.ttl / 3, until - .now))
                if try !lease.renewBlocking() { turn.active = false; return false }
                turn.renewedAt = .now
            }
        }
        return !signal.isStopped
    }

    /// This process, as lease holders are named: host, pid and a random suffix (a restarted
    /// process is a new holder).
    static let holderID = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"

    /// Stable across processes and runs (unlike `hashValue`): FNV-1a of the call key.
    static func lane(for callKey: String, count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in callKey.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(count))
    }

    // MARK: Delivering

    private func deliver(_ lane: DeliveryLane, to endpoint: WebhookEndpoint.Configuration) {
        let sender = WebhookSender()
        while let item = lane.pop() {
            deliver(item, to: endpoint, sender: sender)
        }
    }

    private func deliver(_ item: StreamItem, to endpoint: WebhookEndpoint.Configuration, sender: WebhookSender) {
        let message = item.message
        guard let delivery = item.delivery(for: endpoint), let name = item.name else {
            // Not for this endpoint (its events or campaigns filter it out).
            settle { try message.ackBlocking() }
            return
        }
        // Earlier holders' attempts count: a message handed out the third time has had at least two.
        var attempt = delivery
        attempt.attempts = Int(message.deliveries)
        while true {
            let sent = sender.send(attempt, to: endpoint)
            switch sent.decision {
            case .delivered:
                logger.debug("delivered", metadata: WebhookDispatcher.logMetadata(attempt, status: sent.status, latency: sent.requestDuration))
                settle { try message.ackBlocking() }
                return
            case .retry(let delay, let reason):
                var metadata = WebhookDispatcher.logMetadata(attempt, status: sent.status, latency: sent.requestDuration)
                metadata["error"] = "\(reason)"
                metadata["retry_in_ms"] = "\(Int(delay / .milliseconds(1)))"
                logger.warning("delivery failed; will retry", metadata: metadata)
                guard waitHoldingMessage(message, for: delay) else {
                    // Shutting down: another process takes it now.
                    settle { try message.nakBlocking() }
                    return
                }
                attempt.attempts += 1
            case .dead(let reason):
                var metadata = WebhookDispatcher.logMetadata(attempt, status: sent.status, latency: sent.requestDuration)
                metadata["error"] = "\(reason)"
                logger.error("dead letter: delivery given up", metadata: metadata)
                do {
                    try deadLetters.recordDeadLetterBlocking(
                        item.newDelivery(for: endpoint, name: name), attempts: attempt.attempts, status: sent.status, error: reason
                    )
                } catch {
                    // Not kept here: leave it in the stream, handed out again after the ack wait.
                    logger.error("cannot store the dead letter; it stays in the event log", metadata: ["error": "\(error)", "event_id": "\(attempt.eventID.uuidString.lowercased())"])
                    return
                }
                settle { try message.termBlocking() }
                return
            }
        }
    }

    /// Waits `delay`, telling the server now and then that the message is still being worked on.
    /// False if shutdown came first.
    private func waitHoldingMessage(_ message: JetStreamMessage, for delay: Duration) -> Bool {
        let step = configuration.ackWait / 3
        var left = delay
        while left > .zero {
            try? message.inProgressBlocking()
            let wait = min(left, step)
            if signal.pause(wait) { return false }
            left -= wait
        }
        try? message.inProgressBlocking()
        return !signal.isStopped
    }

    /// An ack, nak or term that fails (the connection dropped) leaves the message to come back
    /// after the ack wait: delivered twice at worst, with the same event id.
    private func settle(_ body: () throws -> Void) {
        do {
            try body()
        } catch {
            logger.warning("cannot acknowledge in the event log; the message may be delivered again", metadata: ["error": "\(error)"])
        }
    }
}
