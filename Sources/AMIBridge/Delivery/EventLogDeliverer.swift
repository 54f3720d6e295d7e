import CRMSink
import CoreMetrics
import EventLog
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Delivers webhooks from the event log (NATS JetStream) instead of the local outbox: one durable
/// pull consumer per endpoint (`amibridge-<endpoint>`), shared by every process that delivers
/// (`amibridge deliver` on several machines, or `run` with `webhooks.source: nats`). A message is
/// acknowledged once its endpoint took it; one whose holder dies goes out again after the ack
/// wait, to any of them.
///
/// Per endpoint, one thread fetches (one message at a time, see ``JetStreamConsumer``) and hands
/// each message to one of `lanes` threads by its call: a call's events go through one lane, in
/// stream order, so they reach the endpoint in order. A failed delivery is retried in its lane
/// with the endpoint's backoff (the message reported in progress meanwhile, so the server keeps
/// it here); the lanes of other calls go on. After `max_attempts` or `max_age` it is a dead letter:
/// written to `deadLetters` (an outbox: `amibridge outbox list|retry` as usual, its dispatcher
/// sends what is re-driven) and terminated in the stream.
///
/// Graceful shutdown: fetching stops, each lane finishes the request it is making; a message
/// waiting to retry is handed back (nak) so another process takes it at once.
final class EventLogDeliverer: Service, Sendable {
    struct Configuration: Sendable, Equatable {
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
    private let stop = StopSignal()

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
        if endpoint.format != .json { return "format \(endpoint.format) is delivered from the outbox only (webhooks.source: outbox)" }
        if endpoint.waitsForDisposition { return "wait_for_disposition is delivered from the outbox only (webhooks.source: outbox)" }
        return nil
    }

    /// The durable consumer's name for an endpoint.
    static func consumerName(_ endpoint: String) -> String {
        "amibridge-" + String(endpoint.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_": Character(scalar)
            default: "_"
            }
        })
    }

    func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    self.startThreads { continuation.resume() }
                }
            } onGracefulShutdown: {
                self.stop.raise()
            }
        } onCancel: {
            self.stop.raise()
        }
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
            for (index, lane) in lanes.enumerated() {
                let thread = Thread {
                    self.deliver(lane, to: endpoint)
                    finishOne()
                }
                thread.name = "amibridge.deliver.\(endpoint.name).\(index)"
                thread.start()
            }
            let fetcher = Thread {
                self.fetch(for: endpoint, into: lanes)
                lanes.forEach { $0.finish() }
                finishOne()
            }
            fetcher.name = "amibridge.deliver.\(endpoint.name).fetch"
            fetcher.start()
        }
    }

    // MARK: Fetching

    private func fetch(for endpoint: WebhookEndpoint.Configuration, into lanes: [DeliveryLane]) {
        var consumerConfiguration = JetStreamConsumer.Configuration(durable: Self.consumerName(endpoint.name))
        consumerConfiguration.stream = stream
        consumerConfiguration.ackWait = configuration.ackWait
        consumerConfiguration.maxAckPending = configuration.maxAckPending
        let lag = Gauge(label: "amibridge_nats_consumer_pending", dimensions: [("endpoint", endpoint.name)])
        let metadata: Logger.Metadata = ["endpoint": "\(endpoint.name)", "consumer": "\(consumerConfiguration.durable)", "stream": "\(stream)"]
        var consumer: JetStreamConsumer?
        var failing = false
        while !stop.isRaised {
            do {
                if consumer == nil {
                    consumer = try JetStreamConsumer(connection: connection, configuration: consumerConfiguration)
                    logger.notice("delivering from the event log", metadata: metadata)
                }
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
                if error.code == .consume, consumer != nil, !connection.isConnected { consumer = nil }
                stop.wait(configuration.reconnectWait)
            }
        }
    }

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
            if stop.wait(wait) { return false }
            left -= wait
        }
        try? message.inProgressBlocking()
        return !stop.isRaised
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
