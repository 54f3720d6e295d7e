import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Delivers what is in the outbox: claims due deliveries, runs them on a small pool of threads
/// (each with its own ``CurlHTTPClient``, so connections are reused), and writes every outcome
/// back, scheduling retries with ``DeliveryRetryPolicy``.
///
/// One coordinator thread talks to the outbox (claims and outcomes, each batch one transaction);
/// libcurl blocks only the pool's threads, never Swift's cooperative pool. Per call and endpoint,
/// a delivery is claimed only once the earlier ones are delivered or dead (see ``Outbox/claim(now:limit:)``).
///
/// On start, rows left in flight by a crash are pending again. On graceful shutdown, requests
/// already sent finish and are recorded; claimed ones not yet sent go back to pending.
public final class WebhookDispatcher: Service, Sendable {
    public struct Configuration: Sendable {
        /// Threads sending requests, each with its own libcurl handle. Default 8.
        public var workers: Int
        /// How often the outbox is looked at when nothing wakes the dispatcher (rows re-driven by
        /// another process, e.g. `amibridge outbox retry`). Retries due sooner wake it on time. Default 1 s.
        public var pollInterval: Duration

        public init(workers: Int = 8, pollInterval: Duration = .seconds(1)) {
            self.workers = max(1, workers)
            self.pollInterval = pollInterval
        }
    }

    /// Counters since start (a Prometheus exporter reads them later).
    public struct Metrics: Sendable, Equatable {
        public var attempts = 0
        public var delivered = 0
        public var retried = 0
        public var deadLettered = 0

        public init(attempts: Int = 0, delivered: Int = 0, retried: Int = 0, deadLettered: Int = 0) {
            self.attempts = attempts
            self.delivered = delivered
            self.retried = retried
            self.deadLettered = deadLettered
        }
    }

    private let outbox: Outbox
    private let endpoints: Mutex<[String: WebhookEndpoint.Configuration]>
    private let configuration: Configuration
    private let logger: Logger
    private let core = DispatcherCore()
    private let counters = Mutex(Metrics())

    public init(
        outbox: Outbox,
        endpoints: [WebhookEndpoint.Configuration],
        configuration: Configuration = .init(),
        logger: Logger
    ) {
        self.outbox = outbox
        self.endpoints = Mutex(Dictionary(endpoints.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last }))
        self.configuration = configuration
        self.logger = logger
        outbox.addEnqueueObserver { [core] in core.wake() }
    }

    public var metrics: Metrics { self.counters.withLock { $0 } }

    /// Replaces the endpoint set (config reload). Rows of a removed endpoint are dead-lettered
    /// when their turn comes; `amibridge outbox retry` re-drives them once it is back.
    public func updateEndpoints(_ endpoints: [WebhookEndpoint.Configuration]) {
        self.endpoints.withLock { $0 = Dictionary(endpoints.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last }) }
        self.warnAboutUnsafeSettings(endpoints)
        self.core.wake()
    }

    public func run() async throws {
        self.warnAboutUnsafeSettings(self.endpoints.withLock { Array($0.values) })
        let reset = try self.outbox.resetInFlight()
        if reset > 0 {
            self.logger.notice("deliveries left in flight by the previous run go out again", metadata: ["count": "\(reset)"])
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    self.startThreads { continuation.resume() }
                }
            } onGracefulShutdown: {
                self.core.stop()
            }
        } onCancel: {
            self.core.stop()
        }
    }

    private func warnAboutUnsafeSettings(_ endpoints: [WebhookEndpoint.Configuration]) {
        for endpoint in endpoints.sorted(by: { $0.name < $1.name }) {
            if !endpoint.verifiesTLS {
                self.logger.warning(
                    "TLS VERIFICATION IS OFF for this endpoint: anyone on the path can read and alter its webhooks",
                    metadata: ["endpoint": "\(endpoint.name)"]
                )
            }
            if endpoint.secret == nil && endpoint.format == .json {
                self.logger.warning("no secret: webhooks to this endpoint are not signed", metadata: ["endpoint": "\(endpoint.name)"])
            }
        }
    }

    private func startThreads(onFinished: @escaping @Sendable () -> Void) {
        let workers = self.configuration.workers
        let exited = Mutex(0)
        let finishOne: @Sendable () -> Void = {
            if exited.withLock({ $0 += 1; return $0 }) == workers + 1 { onFinished() }
        }
        for index in 0..<workers {
            let thread = Thread {
                self.work()
                finishOne()
            }
            thread.name = "amibridge.webhooks.\(index)"
            thread.start()
        }
        let coordinator = Thread {
            self.coordinate()
            finishOne()
        }
        coordinator.name = "amibridge.webhooks.outbox"
        coordinator.start()
    }

    // MARK: Coordinator thread

    private func coordinate() {
        // Enough claimed that a worker finishing one request finds the next one waiting, and
        // claims come in batches (one transaction each).
        let capacity = self.configuration.workers * 4
        var lastClaimWasFull = false
        while true {
            let step = self.core.awaitWork(
                capacity: capacity,
                claimAgain: lastClaimWasFull,
                nextDue: { self.nextWakeUp() }
            )
            do {
                try self.outbox.record(step.outcomes)
            } catch {
                // The rows stay in flight; the next start sends them again (same event_id).
                self.logger.error("cannot record delivery outcomes", metadata: ["error": "\(error)", "count": "\(step.outcomes.count)"])
            }
            if step.finished { break }
            guard step.freeSlots > 0 else { lastClaimWasFull = false; continue }
            do {
                let claimed = try self.outbox.claim(limit: step.freeSlots)
                lastClaimWasFull = claimed.count == step.freeSlots
                self.core.dispatch(claimed)
            } catch {
                lastClaimWasFull = false
                self.logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
                self.core.pause(self.configuration.pollInterval)
            }
        }
        self.core.stopWorkers()
    }

    private func nextWakeUp() -> Date {
        let poll = Date().addingTimeInterval(Self.seconds(self.configuration.pollInterval))
        let next = (try? self.outbox.nextAttempt(after: Date())) ?? nil
        return min(poll, next ?? poll)
    }

    // MARK: Worker threads

    private func work() {
        let client = Result { () throws(CurlError) in try CurlHTTPClient() }
        while let delivery = self.core.nextJob() {
            let outcome = self.attempt(delivery, client: client)
            self.core.finish(outcome)
        }
    }

    private func attempt(_ delivery: OutboxDelivery, client: Result<CurlHTTPClient, CurlError>) -> OutboxOutcome {
        var metadata: Logger.Metadata = [
            "endpoint": "\(delivery.endpoint)", "event": "\(delivery.event)",
            "event_id": "\(delivery.eventID.uuidString.lowercased())", "attempt": "\(delivery.attempts)",
        ]
        guard let endpoint = self.endpoints.withLock({ $0[delivery.endpoint] }) else {
            self.logger.error("dead letter: endpoint no longer configured", metadata: metadata)
            self.counters.withLock { $0.deadLettered += 1 }
            Self.recordAttempt(delivery, result: .dead, requestDuration: nil)
            return .dead(id: delivery.id, status: nil, error: "endpoint \(delivery.endpoint) is not configured")
        }
        let now = Date()
        let request = WebhookRequest.make(delivery, endpoint: endpoint, timestamp: Int(now.timeIntervalSince1970))
        let result: DeliveryAttemptResult
        let started = ContinuousClock.now
        do {
            let response = try client.get().perform(request)
            result = .response(status: response.status, retryAfter: response.header("Retry-After"))
            metadata["status"] = "\(response.status)"
        } catch {
            result = .transportError(error)
        }
        let requestDuration = ContinuousClock.now - started
        metadata["latency_ms"] = "\(Self.milliseconds(requestDuration))"
        // Retry-After and the backoff count from the answer, not from when the request left: a
        // slow receiver must not eat into the wait it asked for.
        let answeredAt = Date()
        var random = SystemRandomNumberGenerator()
        let decision = DeliveryRetryPolicy(endpoint).decide(
            result,
            attempts: delivery.attempts,
            age: .milliseconds(Int64(now.timeIntervalSince(delivery.createdAt) * 1000)),
            now: answeredAt,
            random: &random
        )
        let status: Int? = if case .response(let status, _) = result { status } else { nil }
        switch decision {
        case .delivered:
            self.counters.withLock { $0.attempts += 1; $0.delivered += 1 }
            Self.recordAttempt(delivery, result: .delivered, requestDuration: requestDuration, now: answeredAt)
            self.logger.debug("delivered", metadata: metadata)
            return .delivered(id: delivery.id)
        case .retry(let delay, let reason):
            self.counters.withLock { $0.attempts += 1; $0.retried += 1 }
            Self.recordAttempt(delivery, result: .retry, requestDuration: requestDuration)
            metadata["error"] = "\(reason)"
            metadata["retry_in_ms"] = "\(Self.milliseconds(delay))"
            self.logger.warning("delivery failed; will retry", metadata: metadata)
            return .retry(id: delivery.id, at: answeredAt.addingTimeInterval(Self.seconds(delay)), status: status, error: reason)
        case .dead(let reason):
            self.counters.withLock { $0.attempts += 1; $0.deadLettered += 1 }
            Self.recordAttempt(delivery, result: .dead, requestDuration: requestDuration)
            metadata["error"] = "\(reason)"
            self.logger.error("dead letter: delivery given up", metadata: metadata)
            return .dead(id: delivery.id, status: status, error: reason)
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int((duration / .milliseconds(1)).rounded())
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// The state the coordinator and the workers share, behind one condition variable.
private final class DispatcherCore: @unchecked Sendable {
    struct Step {
        var outcomes: [OutboxOutcome]
        var freeSlots: Int
        /// Stopping, and nothing is in flight any more.
        var finished: Bool
    }

    private let condition = NSCondition()
    // Everything below is guarded by `condition`.
    private var jobs: [OutboxDelivery] = []
    private var outcomes: [OutboxOutcome] = []
    /// Claimed and not yet handed back as an outcome.
    private var inFlight = 0
    private var woken = false
    private var stopping = false
    private var workersStop = false

    func wake() {
        self.condition.lock()
        self.woken = true
        self.condition.broadcast()
        self.condition.unlock()
    }

    func stop() {
        self.condition.lock()
        self.stopping = true
        self.condition.broadcast()
        self.condition.unlock()
    }

    func pause(_ duration: Duration) {
        self.condition.lock()
        _ = self.condition.wait(until: Date().addingTimeInterval(WebhookDispatcher.seconds(duration)))
        self.condition.unlock()
    }

    /// Waits until there is something to do: outcomes to record, free slots and (after a full
    /// claim, a wake-up, or the next due time) possibly due rows, or the end.
    func awaitWork(capacity: Int, claimAgain: Bool, nextDue: () -> Date) -> Step {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.stopping {
            // Claimed but never started: back to pending. They leave `inFlight` below, with the
            // other outcomes (counting them here too once made shutdown spin forever under load).
            self.outcomes += self.jobs.map { .released(id: $0.id) }
            self.jobs.removeAll()
            while self.outcomes.isEmpty && self.inFlight > 0 { self.condition.wait() }
        } else if self.outcomes.isEmpty && !self.woken && !(claimAgain && self.inFlight < capacity) {
            // Reading the next due time under the lock is fine: only this thread touches the outbox.
            let deadline = nextDue()
            while self.outcomes.isEmpty && !self.woken && !self.stopping {
                if !self.condition.wait(until: deadline) { break }
            }
        }
        self.woken = false
        let outcomes = self.outcomes
        self.outcomes.removeAll(keepingCapacity: true)
        self.inFlight -= outcomes.count
        let finished = self.stopping && self.inFlight == 0
        return Step(outcomes: outcomes, freeSlots: self.stopping ? 0 : capacity - self.inFlight, finished: finished)
    }

    func dispatch(_ deliveries: [OutboxDelivery]) {
        guard !deliveries.isEmpty else { return }
        self.condition.lock()
        self.jobs += deliveries
        self.inFlight += deliveries.count
        self.condition.broadcast()
        self.condition.unlock()
    }

    /// A worker's next delivery; nil when the dispatcher stops.
    func nextJob() -> OutboxDelivery? {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.jobs.isEmpty && !self.workersStop { self.condition.wait() }
        guard !self.workersStop, !self.jobs.isEmpty else { return nil }
        return self.jobs.removeFirst()
    }

    func finish(_ outcome: OutboxOutcome) {
        self.condition.lock()
        self.outcomes.append(outcome)
        self.condition.broadcast()
        self.condition.unlock()
    }

    func stopWorkers() {
        self.condition.lock()
        self.workersStop = true
        self.condition.broadcast()
        self.condition.unlock()
    }
}
