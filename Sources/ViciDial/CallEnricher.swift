import EventMapper
import Logging

/// Joins each completed call with its ViciDial row: the I/O around ``CallEnrichmentQueue``.
/// Completed calls go in with ``callCompleted(_:at:)``; ``poll(at:)`` (called by ``run(clock:now:emit:)``
/// or by tests with their own time) looks them all up in one batch and returns the calls that are
/// ready, with lead, recording, talk time and status flags added. Database errors never escape:
/// they are logged, the calls keep waiting, and leave unenriched after the wait.
public actor CallEnricher {
    /// A call leaving enrichment and why (found, not found, database down, evicted).
    public struct Result: Sendable, Hashable {
        public var enrichedCall: EnrichedCall
        public var outcome: CallEnrichmentQueue.Outcome
    }

    public let repository: ViciDialRepository
    private var queue: CallEnrichmentQueue
    private let logger: Logger
    /// The wait's limits, readable without a hop onto the actor.
    public nonisolated let configuration: CallEnrichmentQueue.Configuration
    /// The last database error, nil once a lookup works again.
    public private(set) var lastError: (any Error)?

    public init(
        repository: ViciDialRepository,
        configuration: CallEnrichmentQueue.Configuration = .init(),
        logger: Logger = Logger(label: "amibridge.vicidial.enricher")
    ) {
        self.repository = repository
        self.queue = CallEnrichmentQueue(configuration: configuration)
        self.configuration = configuration
        self.logger = logger
    }

    public var statistics: CallEnrichmentQueue.Statistics { queue.statistics }
    public var waitingCount: Int { queue.count }
    public var nextPollTime: Double? { queue.nextPollTime }

    /// Queues a completed call. Returns calls pushed out of a full queue, to emit at once.
    public func callCompleted(_ call: CallRecord, at now: Double) -> [Result] {
        let evicted = queue.callCompleted(call, at: now)
        if !evicted.isEmpty {
            logger.warning("enrichment queue full; emitting oldest calls without ViciDial data", metadata: ["count": "\(evicted.count)"])
        }
        return evicted.map { Result(enrichedCall: EnrichedCall(call: $0.call, vicidial: $0.row), outcome: $0.outcome) }
    }

    /// One poll if one is due at `now`: a batched lookup of every waiting call, then details for
    /// the calls that leave. Returns those calls.
    public func poll(at now: Double) async -> [Result] {
        guard let calls = queue.pollTimerFired(at: now) else { return [] }
        let departures: [CallEnrichmentQueue.Departure]
        do {
            let rows = try await repository.findCallRows(for: calls)
            departures = queue.lookupSucceeded(rows, at: now)
        } catch {
            noteFailure(error, calls: calls.count)
            return finish(queue.lookupFailed(at: now), details: [:])
        }
        let found = departures.compactMap(\.row)
        guard !found.isEmpty else { return finish(departures, details: [:]) }
        do {
            let callUniqueids = Dictionary(departures.compactMap { d in d.row.map { ($0.rowID, d.call.uniqueids) } }) { first, _ in first }
            let detailed = try await repository.addDetails(to: found, callUniqueids: callUniqueids)
            lastError = nil
            return finish(departures, details: Dictionary(detailed.map { ($0.rowID, $0) }) { first, _ in first })
        } catch {
            // The rows are known; only the lead, recording and flags are missing.
            noteFailure(error, calls: found.count)
            return finish(departures, details: [:])
        }
    }

    /// Resumes the wait of a call held when the bridge stopped (see ``CallEnrichmentQueue/resume(_:deadline:at:)``).
    public func resume(_ call: CallRecord, deadline: Double, at now: Double) -> [Result] {
        queue.resume(call, deadline: deadline, at: now).map { Result(enrichedCall: EnrichedCall(call: $0.call, vicidial: $0.row), outcome: $0.outcome) }
    }

    /// Polls every `interval` on `clock` until cancelled, passing ready calls to `emit`.
    public func run(clock: some EpochClock, interval: Duration, emit: @Sendable ([Result]) async -> Void) async throws {
        while true {
            try await clock.sleep(for: interval)
            let results = await poll(at: clock.epochSeconds)
            if !results.isEmpty { await emit(results) }
        }
    }

    private func finish(_ departures: [CallEnrichmentQueue.Departure], details: [ViciDialRowID: ViciDialCallData]) -> [Result] {
        departures.map { departure in
            let data = departure.row.map { details[$0.rowID] ?? $0 }
            return Result(enrichedCall: EnrichedCall(call: departure.call, vicidial: data), outcome: departure.outcome)
        }
    }

    private func noteFailure(_ error: any Error, calls: Int) {
        if lastError == nil {
            logger.error("ViciDial lookup failed; calls keep waiting", metadata: ["error": "\(error)", "calls": "\(calls)"])
        }
        lastError = error
    }
}
