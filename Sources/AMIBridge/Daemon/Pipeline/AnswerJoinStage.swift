import CRMSink
import EventMapper
import Logging
import ServiceLifecycle
import ViciDial

/// Beside the emit stage: answered calls wait here briefly (``CallAnswerQueue``, by default up to
/// 2 s) for what ViciDial knows of them, the agent and the lead, so that `call_answered` can serve
/// as a screen pop. One query per poll covers every call answered meanwhile; the event path never
/// waits on it: the emit stage stores each answered call as held (on disk, in its batch's
/// transaction) and hands it over here, and goes on.
///
/// A call leaves when its agent and lead are known, when its wait ends (with what is known), at
/// once when a lookup fails (the database is down), or when it completes: the emit stage takes it
/// back (``AnswerWaits/callsEnding(_:)``) and stores its `call_answered` ahead of its
/// `call_complete` in its own transaction, so the two keep their order in the outbox.
///
/// Restarts: the held calls are resumed at start (``resumeHeldCalls(_:)``); a wait that ended
/// while the bridge was down ends at the first check, so the `call_answered` of a call answered
/// just before a SIGKILL goes out right after the restart, with the call's own fields. A graceful
/// shutdown sends every waiting `call_answered` at once with what is known.
struct AnswerJoinStage: Service {
    let waits: AnswerWaits
    let repository: ViciDialRepository
    let clock: any EpochClock
    let logger: Logger

    init(repository: ViciDialRepository, configuration: CallAnswerQueue.Configuration, outbox: PipelineOutbox, clock: any EpochClock, logger: Logger) {
        self.waits = AnswerWaits(queue: CallAnswerQueue(configuration: configuration), outbox: outbox, logger: logger)
        self.repository = repository
        self.clock = clock
        self.logger = logger
    }

    var maximumWait: Double { waits.configuration.maximumWait }

    /// After a restart: the answered calls whose `call_answered` was not stored yet wait again.
    func resumeHeldCalls(_ held: [HeldCall]) async -> Int {
        let calls = held.decoded(as: CallRecord.self, logger: logger)
        await waits.resume(calls, at: clock.epochSeconds)
        return calls.count
    }

    func run() async throws {
        let interval = Duration.seconds(waits.configuration.pollInterval)
        try? await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                // Deadlines, apart from the lookups: a hung lookup holds no call past its wait.
                group.addTask {
                    while true {
                        try await clock.sleep(for: interval)
                        await waits.deadlinesPassed(at: clock.epochSeconds)
                    }
                }
                group.addTask {
                    while true {
                        try await clock.sleep(for: interval)
                        try await lookUp()
                    }
                }
            }
        }
        // Graceful shutdown: nothing more will be looked up; what waits goes out now.
        await waits.drain()
    }

    /// One lookup for every waiting call, if one is due.
    func lookUp() async throws {
        guard let calls = await waits.pollTimerFired(at: clock.epochSeconds) else { return }
        do {
            let found = try await repository.findAnswerData(for: calls)
            await waits.lookupSucceeded(found, at: clock.epochSeconds)
        } catch {
            try Task.checkCancellation()
            await waits.lookupFailed(error, at: clock.epochSeconds)
        }
    }
}

/// The answered calls waiting for ViciDial data, and the one place their `call_answered` is
/// stored from: a call leaving is marked as being stored until its transaction is on disk, so the
/// emit stage, completing the call meanwhile, waits for it instead of storing `call_complete` first.
actor AnswerWaits {
    private var queue: CallAnswerQueue
    /// Calls whose `call_answered` is being written, with whoever waits for that.
    private var storing: [CallKey: [CheckedContinuation<Void, Never>]] = [:]
    private let outbox: PipelineOutbox
    private let logger: Logger
    private var lookupFailing = false
    nonisolated let configuration: CallAnswerQueue.Configuration

    init(queue: CallAnswerQueue, outbox: PipelineOutbox, logger: Logger) {
        self.queue = queue
        self.configuration = queue.configuration
        self.outbox = outbox
        self.logger = logger
    }

    var count: Int { queue.count }

    /// Calls the emit stage has just stored as held start waiting.
    func add(_ calls: [CallRecord], at now: Double) async {
        var evicted: [CallAnswerQueue.Departure] = []
        for call in calls { evicted += queue.callAnswered(call, at: now) }
        if !evicted.isEmpty {
            logger.warning("answer wait full; sending the oldest call_answered without ViciDial data", metadata: ["count": "\(evicted.count)"])
        }
        await store(evicted)
    }

    func resume(_ calls: [(call: CallRecord, deadline: Double)], at now: Double) async {
        var evicted: [CallAnswerQueue.Departure] = []
        for (call, deadline) in calls { evicted += queue.resume(call, deadline: deadline, at: now) }
        await store(evicted)
    }

    /// The emit stage is about to store these calls' completion: their `call_answered`s still
    /// waiting are returned (for the emit stage to store first, in its own transaction), and one
    /// being stored here is waited for.
    func callsEnding(_ calls: Set<CallKey>) async -> [CallAnswerQueue.Departure] {
        let departures = queue.callsEnded(calls)
        for call in calls where storing[call] != nil {
            await withCheckedContinuation { continuation in storing[call]?.append(continuation) ?? continuation.resume() }
        }
        return departures
    }

    func pollTimerFired(at now: Double) -> [CallRecord]? { queue.pollTimerFired(at: now) }

    func lookupSucceeded(_ found: [CallKey: ViciDialAnswerData], at now: Double) async {
        if lookupFailing {
            lookupFailing = false
            logger.notice("ViciDial answers lookups again; call_answered carries agent and lead again")
        }
        await store(queue.lookupSucceeded(found, at: now))
    }

    func lookupFailed(_ error: any Error, at now: Double) async {
        if !lookupFailing {
            lookupFailing = true
            logger.error("ViciDial lookup at the answer failed; call_answered goes out with the call's own fields", metadata: ["error": "\(error)"])
        }
        await store(queue.lookupFailed(at: now))
    }

    func deadlinesPassed(at now: Double) async { await store(queue.deadlinesPassed(at: now)) }

    func drain() async { await store(queue.drain()) }

    private func store(_ departures: [CallAnswerQueue.Departure]) async {
        guard !departures.isEmpty else { return }
        let keys = departures.map { CallKey($0.call) }
        for key in keys { storing[key] = storing[key] ?? [] }
        await outbox.store(departures.map(WebhookEvent.callAnswered), releasing: departures.map { .answerWaitEnded($0.call) })
        for key in keys {
            for waiter in storing.removeValue(forKey: key) ?? [] { waiter.resume() }
        }
    }
}
