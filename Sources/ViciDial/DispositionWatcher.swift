import EventMapper
import Logging

/// Waits for agents' final dispositions: the I/O around ``DispositionQueue``. Enriched calls go in
/// with ``watch(_:at:)``; each ``poll(at:)`` reads every watched row in ONE statement and returns
/// the calls whose disposition is now final (once each) and those given up. Database errors never
/// escape: the calls keep waiting until their deadline.
public actor DispositionWatcher {
    public let repository: ViciDialRepository
    private var queue: DispositionQueue
    private let logger: Logger
    /// The wait's limits, readable without a hop onto the actor.
    public nonisolated let configuration: DispositionQueue.Configuration
    /// The last database error, nil once a poll works again.
    public private(set) var lastError: (any Error)?

    public init(
        repository: ViciDialRepository,
        configuration: DispositionQueue.Configuration = .init(),
        logger: Logger = Logger(label: "amibridge.vicidial.dispositions")
    ) {
        self.repository = repository
        self.queue = DispositionQueue(configuration: configuration)
        self.configuration = configuration
        self.logger = logger
    }

    public var statistics: DispositionQueue.Statistics { queue.statistics }
    public var waitingCount: Int { queue.count }
    public var nextPollTime: Double? { queue.nextPollTime }

    /// Starts watching; returns calls that leave at once (no row to watch, or pushed out).
    public func watch(_ call: EnrichedCall, at now: Double) -> [DispositionQueue.Outcome] {
        queue.watch(call, at: now)
    }

    /// One poll if one is due at `now`.
    public func poll(at now: Double) async -> [DispositionQueue.Outcome] {
        guard let rowIDs = queue.pollTimerFired(at: now) else { return [] }
        do {
            let rows = try await repository.dispositions(of: rowIDs)
            lastError = nil
            return queue.pollSucceeded(rows, at: now)
        } catch {
            if lastError == nil {
                logger.error("ViciDial disposition poll failed; calls keep waiting", metadata: ["error": "\(error)", "calls": "\(queue.count)"])
            }
            lastError = error
            return queue.pollFailed(at: now)
        }
    }

    /// Resumes the watch of a call held when the bridge stopped.
    public func resume(_ call: EnrichedCall, deadline: Double, at now: Double) -> [DispositionQueue.Outcome] {
        queue.resume(call, deadline: deadline, at: now)
    }

    /// Polls every `interval` on `clock` until cancelled, passing outcomes to `emit`.
    public func run(clock: some EpochClock, interval: Duration, emit: @Sendable ([DispositionQueue.Outcome]) async -> Void) async throws {
        while true {
            try await clock.sleep(for: interval)
            let outcomes = await poll(at: clock.epochSeconds)
            if !outcomes.isEmpty { await emit(outcomes) }
        }
    }
}
