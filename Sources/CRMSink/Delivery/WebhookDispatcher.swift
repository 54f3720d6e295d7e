import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle
import NIOConcurrencyHelpers

/// Delivers what is in the outbox: claims due deliveries, sends several at once through one
/// ``CurlMultiClient`` (its connections kept open), and writes every outcome back, scheduling
/// retries with ``DeliveryRetryPolicy``.
///
/// Two threads of its own, never Swift's cooperative pool: the coordinator talks to the outbox
/// (claims and outcomes, each batch one transaction), the transfer thread runs the requests.
/// They meet in ``DispatcherCore``, once per batch rather than once per request. Per call and
/// endpoint, a delivery is claimed only once the earlier ones are delivered or dead (see
/// ``Outbox/claim(now:limit:)``).
///
/// On start, rows left in flight by a crash are pending again. On graceful shutdown, requests
/// already sent finish and are recorded; claimed ones not yet sent go back to pending.
public final class WebhookDispatcher: Service, Sendable {
    public struct Configuration: Sendable {
        /// Requests in flight at once, each on a connection kept open (HTTP/2 endpoints share
        /// one). Default 32: a backlog drains 20 % faster than with 8 (`amibridge-bench webhooks
        /// throughput 50000 8` against `... 32`), and a slot costs no thread. A slow CRM holds a
        /// slot per request it has not answered yet.
        public var workers: Int
        /// How often the outbox is looked at when nothing wakes the dispatcher (rows re-driven by
        /// another process, e.g. `amibridge outbox retry`). Retries due sooner wake it on time. Default 1 s.
        public var pollInterval: Duration

        public init(workers: Int = 32, pollInterval: Duration = .seconds(1)) {
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
    private let endpoints: NIOLockedValueBox<[String: WebhookEndpoint.Configuration]>
    private let configuration: Configuration
    private let logger: Logger
    private let core = DispatcherCore()
    private let counters = NIOLockedValueBox(Metrics())
    private let history: DeliveryHistory?

    /// `history`, when given, keeps the last attempts (for the status page).
    public init(
        outbox: Outbox,
        endpoints: [WebhookEndpoint.Configuration],
        configuration: Configuration = .init(),
        history: DeliveryHistory? = nil,
        logger: Logger
    ) {
        self.outbox = outbox
        self.history = history
        self.endpoints = NIOLockedValueBox(Dictionary(endpoints.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last }))
        self.configuration = configuration
        self.logger = logger
        outbox.addEnqueueObserver { [core] in core.wake() }
    }

    public var metrics: Metrics { self.counters.withLockedValue { $0 } }

    /// Replaces the endpoint set (config reload). Rows of a removed endpoint are dead-lettered
    /// when their turn comes; `amibridge outbox retry` re-drives them once it is back.
    public func updateEndpoints(_ endpoints: [WebhookEndpoint.Configuration]) {
        self.endpoints.withLockedValue { $0 = Dictionary(endpoints.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last }) }
        self.warnAboutUnsafeSettings(endpoints)
        self.core.wake()
    }

    public func run() async throws {
        self.warnAboutUnsafeSettings(self.endpoints.withLockedValue { Array($0.values) })
        let reset = try self.outbox.resetInFlight()
        if reset > 0 {
            self.logger.notice("deliveries left in flight by the previous run go out again", metadata: ["count": "\(reset)"])
        }
        await runOnThreadsUntilShutdown(start: { self.startThreads(onFinished: $0) }, stop: { self.core.stop() })
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
        let exited = NIOLockedValueBox(0)
        let finishOne: @Sendable () -> Void = {
            if exited.withLockedValue({ $0 += 1; return $0 }) == 2 { onFinished() }
        }
        // Names show in `top -H` and `perf`. Set from inside the thread (Foundation on Linux does not
        // apply a name given before start), and at most 15 bytes, or Linux refuses it.
        let transfers = Thread {
            Thread.current.name = "amib.http"
            self.sendRequests()
            finishOne()
        }
        transfers.start()
        let coordinator = Thread {
            Thread.current.name = "amib.outbox"
            self.coordinate()
            finishOne()
        }
        coordinator.start()
    }

    // MARK: Coordinator thread

    private func coordinate() {
        // Enough claimed that requests never wait for the outbox, and outcomes and claims go in
        // batches: one transaction records what finished and claims as much again.
        let workers = self.configuration.workers
        let capacity = workers * 16
        let policy = DispatcherCore.BatchPolicy(capacity: capacity, batch: max(1, capacity / 4), lowWater: workers)
        var lastClaimWasFull = false
        while true {
            let step = self.core.awaitWork(policy, claimAgain: lastClaimWasFull, nextDue: { self.nextWakeUp() })
            guard !step.finished, step.freeSlots > 0 else {
                self.record(step.outcomes)
                lastClaimWasFull = false
                if step.finished { break }
                continue
            }
            do {
                let claimed = try self.outbox.recordAndClaim(step.outcomes, limit: step.freeSlots)
                lastClaimWasFull = claimed.count == step.freeSlots
                self.core.dispatch(claimed)
            } catch {
                // Nothing of that transaction stayed: record the outcomes on their own.
                lastClaimWasFull = false
                self.logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
                self.record(step.outcomes)
                self.core.pause(self.configuration.pollInterval)
            }
        }
        self.core.stopWorkers()
    }

    private func record(_ outcomes: [OutboxOutcome]) {
        do {
            try self.outbox.record(outcomes)
        } catch {
            // The rows stay in flight; the next start sends them again (same event_id).
            self.logger.error("cannot record delivery outcomes", metadata: ["error": "\(error)", "count": "\(outcomes.count)"])
        }
    }

    private func nextWakeUp() -> Date {
        let poll = Date().addingTimeInterval(Self.seconds(self.configuration.pollInterval))
        let next = (try? self.outbox.nextAttempt(after: Date())) ?? nil
        return min(poll, next ?? poll)
    }

    // MARK: Transfer thread

    /// A request on its way: what it delivers, and when it left.
    private struct Sending {
        var delivery: OutboxDelivery
        var endpoint: WebhookEndpoint.Configuration
        var sentAt: Date
        var started: ContinuousClock.Instant
    }

    /// Runs up to ``Configuration/workers`` requests at once: hands in what finished, takes as
    /// many queued deliveries as there is room for, and waits on the network (or for new work).
    private func sendRequests() {
        let sender = WebhookSender()
        let client: CurlMultiClient
        do {
            client = try CurlMultiClient(concurrency: self.configuration.workers)
        } catch {
            // Without libcurl nothing can be sent: every delivery fails as a transport error and
            // waits for its retry, as a refused connection would.
            self.logger.critical("cannot start libcurl; webhooks wait for their retries", metadata: ["error": "\(error)"])
            var outcomes: [OutboxOutcome] = []
            while true {
                let (jobs, stop) = self.core.exchange(outcomes, room: self.configuration.workers, waitForJobs: true)
                if stop { return }
                outcomes = jobs.map { self.conclude($0, result: .transportError(error), sentAt: Date(), requestDuration: .zero, sender: sender) }
            }
        }
        self.core.setWaker { client.wake() }
        var sending: [Int: Sending] = [:]
        var nextTag = 0
        var outcomes: [OutboxOutcome] = []
        while true {
            let (jobs, stop) = self.core.exchange(outcomes, room: client.concurrency - client.runningCount, waitForJobs: false)
            outcomes.removeAll(keepingCapacity: true)
            if stop { break }
            for delivery in jobs {
                guard let endpoint = self.endpoints.withLockedValue({ $0[delivery.endpoint] }) else {
                    outcomes.append(self.deadWithoutEndpoint(delivery, sender: sender))
                    continue
                }
                let sentAt = Date()
                do {
                    try client.start(sender.request(for: delivery, to: endpoint, at: sentAt), tag: nextTag)
                    sending[nextTag] = Sending(delivery: delivery, endpoint: endpoint, sentAt: sentAt, started: .now)
                    nextTag &+= 1
                } catch {
                    outcomes.append(self.conclude(
                        delivery, to: endpoint, result: .transportError(error), sentAt: sentAt, requestDuration: .zero, sender: sender
                    ))
                }
            }
            // Outcomes without a request go in at once; otherwise wait for the network. With
            // nothing running, the wait lasts until new work wakes it (or a second passes).
            guard outcomes.isEmpty else { continue }
            for finished in client.wait(upTo: .seconds(1)) {
                guard let request = sending.removeValue(forKey: finished.tag) else { continue }
                outcomes.append(self.conclude(
                    request.delivery, to: request.endpoint, result: DeliveryAttemptResult(finished.result), sentAt: request.sentAt,
                    requestDuration: .now - request.started, sender: sender
                ))
            }
        }
        self.core.setWaker(nil)
    }

    /// The attempt's log fields, built only when a line is logged (a delivered one is logged at
    /// debug level, usually off).
    public static func logMetadata(_ delivery: OutboxDelivery, status: Int? = nil, latency: Duration? = nil) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "endpoint": "\(delivery.endpoint)", "event": "\(delivery.event)",
            "event_id": "\(delivery.eventID.lowercaseText)", "attempt": "\(delivery.attempts)",
        ]
        if let status { metadata["status"] = "\(status)" }
        if let latency { metadata["latency_ms"] = "\(Self.milliseconds(latency))" }
        return metadata
    }

    private func deadWithoutEndpoint(_ delivery: OutboxDelivery, sender: WebhookSender) -> OutboxOutcome {
        self.logger.error("dead letter: endpoint no longer configured", metadata: Self.logMetadata(delivery))
        self.counters.withLockedValue { $0.deadLettered += 1 }
        sender.recordDeadWithoutAttempt(delivery)
        let error = "endpoint \(delivery.endpoint) is not configured"
        self.remember(delivery, .dead, status: nil, requestDuration: nil, error: error)
        return .dead(id: delivery.id, status: nil, error: error)
    }

    /// The outcome of an attempt that left at `sentAt` and ended with `result`, counted, logged
    /// and remembered. Without `endpoint`, the delivery's current configuration decides.
    private func conclude(
        _ delivery: OutboxDelivery, to endpoint: WebhookEndpoint.Configuration? = nil, result: DeliveryAttemptResult, sentAt: Date,
        requestDuration: Duration, sender: WebhookSender
    ) -> OutboxOutcome {
        guard let endpoint = endpoint ?? self.endpoints.withLockedValue({ $0[delivery.endpoint] }) else {
            return self.deadWithoutEndpoint(delivery, sender: sender)
        }
        let sent = sender.conclude(delivery, to: endpoint, result: result, sentAt: sentAt, requestDuration: requestDuration)
        let (status, answeredAt) = (sent.status, sent.answeredAt)
        switch sent.decision {
        case .delivered:
            self.counters.withLockedValue { $0.attempts += 1; $0.delivered += 1 }
            self.remember(delivery, .delivered, status: status, requestDuration: requestDuration, at: answeredAt, error: nil)
            self.logger.debug("delivered", metadata: Self.logMetadata(delivery, status: status, latency: requestDuration))
            return .delivered(id: delivery.id)
        case .retry(let delay, let reason):
            self.counters.withLockedValue { $0.attempts += 1; $0.retried += 1 }
            self.remember(delivery, .retry, status: status, requestDuration: requestDuration, at: answeredAt, error: reason)
            var metadata = Self.logMetadata(delivery, status: status, latency: requestDuration)
            metadata["error"] = "\(reason)"
            metadata["retry_in_ms"] = "\(Self.milliseconds(delay))"
            self.logger.warning("delivery failed; will retry", metadata: metadata)
            return .retry(id: delivery.id, at: answeredAt.addingTimeInterval(Self.seconds(delay)), status: status, error: reason)
        case .dead(let reason):
            self.counters.withLockedValue { $0.attempts += 1; $0.deadLettered += 1 }
            self.remember(delivery, .dead, status: status, requestDuration: requestDuration, at: answeredAt, error: reason)
            var metadata = Self.logMetadata(delivery, status: status, latency: requestDuration)
            metadata["error"] = "\(reason)"
            self.logger.error("dead letter: delivery given up", metadata: metadata)
            return .dead(id: delivery.id, status: status, error: reason)
        }
    }

    private func remember(
        _ delivery: OutboxDelivery, _ result: DeliveryHistory.Attempt.Result, status: Int?, requestDuration: Duration?,
        at: Date = Date(), error: String?
    ) {
        self.history?.record(DeliveryHistory.Attempt(
            deliveryID: delivery.id, eventID: delivery.eventID, event: delivery.event, endpoint: delivery.endpoint, result: result,
            status: status, requestMilliseconds: requestDuration.map(Self.milliseconds),
            latencyMilliseconds: Int((max(0, at.timeIntervalSince(delivery.createdAt)) * 1000).rounded()), at: at, error: error
        ))
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int((duration / .milliseconds(1)).rounded())
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// The state the coordinator and the transfer thread share, behind one lock: finished requests
/// wake the coordinator only when it has a batch to write (or the queue runs dry), and new jobs
/// wake the transfer thread out of its network wait (``setWaker(_:)``).
private final class DispatcherCore: @unchecked Sendable {
    struct Step {
        var outcomes: [OutboxOutcome]
        var freeSlots: Int
        /// Stopping, and nothing is in flight any more.
        var finished: Bool
    }

    /// When the coordinator goes to the outbox.
    struct BatchPolicy {
        /// Most deliveries claimed and not yet recorded.
        var capacity: Int
        /// Outcomes worth a transaction even while the workers are busy.
        var batch: Int
        /// Fewer queued jobs than this and the workers may soon wait: record and claim now.
        var lowWater: Int
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let coordinatorCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// What a transfer thread waiting with ``exchange(_:room:waitForJobs:)`` sleeps on.
    private let workerCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Everything below is guarded by `mutex`.
    private var jobs: [OutboxDelivery] = []
    private var nextJobIndex = 0
    private var outcomes: [OutboxOutcome] = []
    /// Claimed and not yet handed back as an outcome.
    private var inFlight = 0
    private var woken = false
    private var stopping = false
    private var workersStop = false
    /// What the coordinator waits for, while it waits (nil otherwise).
    private var waitingPolicy: BatchPolicy?
    private var waitingClaimAgain = false
    /// Ends the transfer thread's network wait.
    private var waker: (@Sendable () -> Void)?

    init() {
        pthread_mutex_init(self.mutex, nil)
        pthread_cond_init(self.coordinatorCondition, nil)
        pthread_cond_init(self.workerCondition, nil)
    }

    deinit {
        pthread_cond_destroy(self.workerCondition)
        pthread_cond_destroy(self.coordinatorCondition)
        pthread_mutex_destroy(self.mutex)
        self.workerCondition.deallocate()
        self.coordinatorCondition.deallocate()
        self.mutex.deallocate()
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(self.mutex)
        defer { pthread_mutex_unlock(self.mutex) }
        return try body()
    }

    private var queuedJobs: Int { self.jobs.count - self.nextJobIndex }

    /// Whether a waiting coordinator has something to do. Called under the lock.
    private func coordinatorIsDue(_ policy: BatchPolicy, claimAgain: Bool) -> Bool {
        if self.stopping || self.outcomes.count >= policy.batch { return true }
        guard self.queuedJobs < policy.lowWater else { return false }
        return !self.outcomes.isEmpty || ((self.woken || claimAgain) && self.inFlight < policy.capacity)
    }

    /// Wakes the coordinator if it waits and now has something to do. Called under the lock.
    private func signalCoordinatorIfDue() {
        if let policy = self.waitingPolicy, self.coordinatorIsDue(policy, claimAgain: self.waitingClaimAgain) {
            pthread_cond_signal(self.coordinatorCondition)
        }
    }

    func wake() {
        self.locked {
            self.woken = true
            self.signalCoordinatorIfDue()
        }
    }

    func stop() {
        self.locked {
            self.stopping = true
            pthread_cond_signal(self.coordinatorCondition)
        }
    }

    func pause(_ duration: Duration) {
        self.locked {
            var deadline = Self.deadline(Date().addingTimeInterval(WebhookDispatcher.seconds(duration)))
            _ = pthread_cond_timedwait(self.coordinatorCondition, self.mutex, &deadline)
        }
    }

    /// Waits until there is something to do: a batch of outcomes to record, or workers running
    /// dry with outcomes to record or (after a full claim, a wake-up, or the next due time)
    /// possibly due rows to claim, or the end.
    func awaitWork(_ policy: BatchPolicy, claimAgain: Bool, nextDue: () -> Date) -> Step {
        self.locked {
            if self.stopping {
                // Claimed but never started: back to pending. They leave `inFlight` below, with the
                // other outcomes (counting them here too once made shutdown spin forever under load).
                self.outcomes += self.jobs[self.nextJobIndex...].map { .released(id: $0.id) }
                self.jobs.removeAll()
                self.nextJobIndex = 0
                while self.outcomes.isEmpty && self.inFlight > 0 { pthread_cond_wait(self.coordinatorCondition, self.mutex) }
            } else if !self.coordinatorIsDue(policy, claimAgain: claimAgain) {
                // Reading the next due time under the lock is fine: only this thread touches the outbox.
                var deadline = Self.deadline(nextDue())
                self.waitingPolicy = policy
                self.waitingClaimAgain = claimAgain
                while !self.coordinatorIsDue(policy, claimAgain: claimAgain) {
                    if pthread_cond_timedwait(self.coordinatorCondition, self.mutex, &deadline) == ETIMEDOUT { break }
                }
                self.waitingPolicy = nil
            }
            self.woken = false
            let outcomes = self.outcomes
            self.outcomes.removeAll(keepingCapacity: true)
            self.inFlight -= outcomes.count
            let finished = self.stopping && self.inFlight == 0
            return Step(outcomes: outcomes, freeSlots: self.stopping ? 0 : policy.capacity - self.inFlight, finished: finished)
        }
    }

    func dispatch(_ deliveries: [OutboxDelivery]) {
        guard !deliveries.isEmpty else { return }
        self.locked {
            if self.nextJobIndex > 0 {
                self.jobs.removeFirst(self.nextJobIndex)
                self.nextJobIndex = 0
            }
            self.jobs += deliveries
            self.inFlight += deliveries.count
            self.wakeTransfers()
        }
    }

    func setWaker(_ waker: (@Sendable () -> Void)?) {
        self.locked { self.waker = waker }
    }

    /// Called under the lock.
    private func wakeTransfers() {
        pthread_cond_signal(self.workerCondition)
        self.waker?()
    }

    /// Hands in the transfer thread's outcomes and takes up to `room` queued deliveries; `stop`
    /// once the dispatcher stops. Returns at once unless `waitForJobs` (then it waits for a job
    /// or the stop).
    func exchange(_ outcomes: [OutboxOutcome], room: Int, waitForJobs: Bool) -> (jobs: [OutboxDelivery], stop: Bool) {
        self.locked {
            if !outcomes.isEmpty {
                self.outcomes += outcomes
                if self.stopping {
                    pthread_cond_signal(self.coordinatorCondition)
                }
            }
            // Running dry, or a batch of outcomes, is the coordinator's cue.
            self.signalCoordinatorIfDue()
            while waitForJobs && self.queuedJobs == 0 && !self.workersStop {
                pthread_cond_wait(self.workerCondition, self.mutex)
            }
            guard !self.workersStop else { return ([], true) }
            let taken = min(max(0, room), self.queuedJobs)
            guard taken > 0 else { return ([], false) }
            let jobs = Array(self.jobs[self.nextJobIndex..<(self.nextJobIndex + taken)])
            self.nextJobIndex += taken
            if self.nextJobIndex == self.jobs.count {
                self.jobs.removeAll(keepingCapacity: true)
                self.nextJobIndex = 0
            }
            // The queue getting short is the coordinator's cue too.
            self.signalCoordinatorIfDue()
            return (jobs, false)
        }
    }

    func stopWorkers() {
        self.locked {
            self.workersStop = true
            pthread_cond_broadcast(self.workerCondition)
            self.waker?()
        }
    }

    /// `date` as pthread_cond_timedwait's absolute CLOCK_REALTIME deadline.
    private static func deadline(_ date: Date) -> timespec {
        let seconds = max(0, date.timeIntervalSince1970)
        let whole = seconds.rounded(.down)
        return timespec(tv_sec: Int(whole), tv_nsec: min(999_999_999, Int((seconds - whole) * 1e9)))
    }
}
