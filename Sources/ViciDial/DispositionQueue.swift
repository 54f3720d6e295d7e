/// The enriched calls waiting for the agent's final disposition: pure decisions with the time
/// passed in. Agents pick a disposition after the hangup, often tens of seconds or minutes later,
/// so each call's row is re-read every ``Configuration/pollInterval`` (all calls in one batch)
/// until its status is final, and given up after ``Configuration/maximumWait``. Each call leaves
/// exactly once: with its ``DispositionSet``, or given up.
public struct DispositionQueue: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Seconds between polls. Default 5.
        public var pollInterval: Double
        /// Seconds after enrichment a call waits for a final status. Default 1,800 (30 minutes):
        /// an agent may leave a call in the disposition screen through a break.
        public var maximumWait: Double
        /// Statuses that are not an agent's disposition: the call is live, queued, or waiting in
        /// the disposition screen (ViciDial's DISPO). Empty means not set. Compared ignoring case.
        public var nonFinalStatuses: Set<String>
        /// The most calls waiting at once. Default 50,000.
        public var maximumWaiting: Int

        public init(
            pollInterval: Double = 5,
            maximumWait: Double = 1_800,
            nonFinalStatuses: Set<String> = ViciDialFinalStatus.nonFinalStatuses,
            maximumWaiting: Int = 50_000
        ) {
            self.pollInterval = pollInterval
            self.maximumWait = maximumWait
            self.nonFinalStatuses = Set(nonFinalStatuses.map(ViciDialFinalStatus.normalized))
            self.maximumWaiting = max(1, maximumWaiting)
        }

        public func isFinal(_ status: String?) -> Bool {
            ViciDialFinalStatus.isFinal(status, nonFinal: nonFinalStatuses)
        }
    }

    /// Why a call left without a disposition.
    public enum GiveUpReason: String, Sendable, Hashable {
        /// No final status within the wait; `lastStatus` says where it stuck.
        case timedOut = "timed_out"
        /// Pushed out by newer calls while the queue was full.
        case evicted
        /// The call has no ViciDial row to watch.
        case noRow = "no_row"
    }

    public enum Outcome: Sendable, Hashable {
        case dispositionSet(DispositionSet)
        case gaveUp(EnrichedCall, reason: GiveUpReason, lastStatus: String?)
    }

    public struct Statistics: Sendable, Hashable {
        public var dispositionsSet = 0
        public var timedOut = 0
        public var evicted = 0
        public var polls = 0
        public var failedPolls = 0
    }

    struct Waiting: Sendable {
        var call: EnrichedCall
        var rowID: ViciDialRowID
        var deadline: Double
        var lastStatus: String?
    }

    public let configuration: Configuration
    private var list = PollingWaitList<Waiting> { $0.call.key }
    public private(set) var statistics = Statistics()

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    public var count: Int { list.count }
    public var nextPollTime: Double? { list.nextPollTime }

    /// Starts watching an enriched call. Returns calls that leave at once: this one when it has
    /// no row, and the oldest ones when the queue is full. A call already watched is ignored.
    public mutating func watch(_ call: EnrichedCall, at now: Double) -> [Outcome] {
        watch(call, deadline: now + configuration.maximumWait, firstPollAt: now + configuration.pollInterval)
    }

    /// A call that was watched when the bridge stopped: watched again until its own `deadline`
    /// (polled once even if that has passed), from the next poll.
    public mutating func resume(_ call: EnrichedCall, deadline: Double, at now: Double) -> [Outcome] {
        watch(call, deadline: deadline, firstPollAt: now)
    }

    private mutating func watch(_ call: EnrichedCall, deadline: Double, firstPollAt: Double) -> [Outcome] {
        guard let row = call.vicidial else { return [.gaveUp(call, reason: .noRow, lastStatus: nil)] }
        guard !list.contains(call.key) else { return [] }
        let evicted = list.append(
            Waiting(call: call, rowID: row.rowID, deadline: deadline, lastStatus: row.status),
            limit: configuration.maximumWaiting,
            firstPollAt: firstPollAt
        )
        statistics.evicted += evicted.count
        return evicted.map { .gaveUp($0.call, reason: .evicted, lastStatus: $0.lastStatus) }
    }

    /// The rows to read now (each once, however many calls share it), or nil when a poll is
    /// running, none is due or nothing waits.
    public mutating func pollTimerFired(at now: Double) -> Set<ViciDialRowID>? {
        guard let entries = list.startPoll(at: now) else { return nil }
        statistics.polls += 1
        return Set(entries.map(\.rowID))
    }

    /// The poll read `rows`. Calls whose status is now final leave with their disposition;
    /// calls past their deadline are given up.
    public mutating func pollSucceeded(_ rows: [ViciDialRowID: ViciDialDispositionRow], at now: Double) -> [Outcome] {
        let polled = list.finishPoll(nextAt: now + configuration.pollInterval)
        let configuration = self.configuration
        return depart(at: now) { entry in
            guard polled.contains(entry.call.key), let row = rows[entry.rowID] else { return nil }
            entry.lastStatus = row.status
            guard configuration.isFinal(row.status), let status = row.status else { return nil }
            return DispositionSet(call: entry.call, status: status, flags: row.flags, comments: row.comments,
                                  leadComments: row.leadComments, user: row.user)
        }
    }

    /// The poll failed: everything keeps waiting except calls past their deadline.
    public mutating func pollFailed(at now: Double) -> [Outcome] {
        _ = list.finishPoll(nextAt: now + configuration.pollInterval)
        statistics.failedPolls += 1
        return depart(at: now) { _ in nil }
    }

    /// Removes the calls `decide` gives a disposition, then gives up those past their deadline.
    private mutating func depart(at now: Double, _ decide: (inout Waiting) -> DispositionSet?) -> [Outcome] {
        let outcomes = list.settle { (entry: inout Waiting) -> Outcome? in
            if let set = decide(&entry) { return .dispositionSet(set) }
            guard now >= entry.deadline else { return nil }
            return .gaveUp(entry.call, reason: .timedOut, lastStatus: entry.lastStatus)
        }
        for outcome in outcomes {
            switch outcome {
            case .dispositionSet: statistics.dispositionsSet += 1
            case .gaveUp: statistics.timedOut += 1
            }
        }
        return outcomes
    }
}
