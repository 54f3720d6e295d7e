import EventMapper
/// The calls waiting for their ViciDial row, and when to give up on each: pure decisions with the
/// time passed in, so tests drive minutes of waiting without a clock or a database.
///
/// ViciDial writes a call's row when it is answered and its hangup (`end_epoch`) a moment after
/// the channel hangs up, so a completed call is looked up again every ``Configuration/retryInterval``
/// until its row has the hangup written, and emitted with what is known after
/// ``Configuration/maximumWait``. Every poll looks up all waiting calls at once. While the
/// database is unreachable, calls still leave after the wait (without data), and the set is
/// bounded: beyond ``Configuration/maximumWaiting`` the oldest leave at once.
public struct CallEnrichmentQueue: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Seconds between lookups. Default 2.
        public var retryInterval: Double
        /// Seconds after completion a call waits for its row before it is emitted with what is
        /// known. Default 60: ViciDial's sweep of unanswered attempts runs about once a minute.
        public var maximumWait: Double
        /// The most calls waiting at once. Default 10,000.
        public var maximumWaiting: Int

        public init(retryInterval: Double = 2, maximumWait: Double = 60, maximumWaiting: Int = 10_000) {
            self.retryInterval = retryInterval
            self.maximumWait = maximumWait
            self.maximumWaiting = max(1, maximumWaiting)
        }
    }

    /// Why a call left the queue.
    public enum Outcome: String, Sendable, Hashable {
        /// Its row was found with the hangup written.
        case found
        /// Its row was found, but ViciDial had not written the hangup by the deadline.
        case foundWithoutHangup = "found_without_hangup"
        /// Lookups worked but found no row within the wait.
        case notFound = "not_found"
        /// Every lookup during the wait failed: the database was unreachable.
        case databaseUnavailable = "database_unavailable"
        /// Pushed out by newer calls while the queue was full.
        case evicted
    }

    /// A call leaving the queue. `row` is the row as last read (details not yet added).
    public struct Departure: Sendable, Hashable {
        public var call: CallRecord
        public var row: ViciDialCallData?
        public var outcome: Outcome
    }

    /// Counts since start, for metrics and logs.
    public struct Statistics: Sendable, Hashable {
        public var found = 0
        public var foundWithoutHangup = 0
        public var notFound = 0
        public var databaseUnavailable = 0
        public var evicted = 0
        public var lookups = 0
        public var failedLookups = 0
    }

    struct Waiting: Sendable {
        var call: CallRecord
        var deadline: Double
        var lastRow: ViciDialCallData?
        var anyLookupSucceeded = false
    }

    public let configuration: Configuration
    private var list = PollingWaitList<Waiting> { CallKey($0.call) }
    public private(set) var statistics = Statistics()

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    public var count: Int { list.count }

    /// When ``pollTimerFired(at:)`` next has work, nil when nothing waits.
    public var nextPollTime: Double? { list.nextPollTime }

    /// A call completed. Returns the calls pushed out to make room (emit them unenriched). A call
    /// already waiting is not added twice.
    public mutating func callCompleted(_ call: CallRecord, at now: Double) -> [Departure] {
        wait(for: call, deadline: now + configuration.maximumWait, firstPollAt: now + min(configuration.retryInterval, configuration.maximumWait))
    }

    /// A call that was waiting when the bridge stopped: it waits again until its own `deadline`
    /// (which may have passed: it is still looked up once), looked up at the next poll.
    public mutating func resume(_ call: CallRecord, deadline: Double, at now: Double) -> [Departure] {
        wait(for: call, deadline: deadline, firstPollAt: now)
    }

    private mutating func wait(for call: CallRecord, deadline: Double, firstPollAt: Double) -> [Departure] {
        guard !list.contains(CallKey(call)) else { return [] }
        let evicted = list.append(
            Waiting(call: call, deadline: deadline),
            limit: configuration.maximumWaiting,
            firstPollAt: firstPollAt
        )
        statistics.evicted += evicted.count
        return evicted.map { Departure(call: $0.call, row: $0.lastRow, outcome: .evicted) }
    }

    /// The poll timer fired: the calls to look up now, or nil when a lookup is still running,
    /// none is due or nothing waits.
    public mutating func pollTimerFired(at now: Double) -> [CallRecord]? {
        guard let entries = list.startPoll(at: now) else { return nil }
        statistics.lookups += 1
        return entries.map(\.call)
    }

    /// The lookup returned `rows` (the calls it found a row for). Returns the calls that leave:
    /// those whose row has the hangup written, and those past their deadline.
    public mutating func lookupSucceeded(_ rows: [CallKey: ViciDialCallData], at now: Double) -> [Departure] {
        let lookedUp = list.finishPoll(nextAt: now + configuration.retryInterval)
        return depart { entry in
            let key = CallKey(entry.call)
            guard lookedUp.contains(key) else { return nil }
            entry.anyLookupSucceeded = true
            if let row = rows[key] {
                entry.lastRow = row
                if row.isHangupWritten { return .found }
            }
            guard now >= entry.deadline else { return nil }
            return entry.lastRow == nil ? .notFound : .foundWithoutHangup
        }
    }

    /// The lookup failed (database unreachable, timeout...). The calls stay, except those past
    /// their deadline, which leave with the row last read, if any.
    public mutating func lookupFailed(at now: Double) -> [Departure] {
        _ = list.finishPoll(nextAt: now + configuration.retryInterval)
        statistics.failedLookups += 1
        return depart { entry in
            guard now >= entry.deadline else { return nil }
            if entry.lastRow != nil { return .foundWithoutHangup }
            return entry.anyLookupSucceeded ? .notFound : .databaseUnavailable
        }
    }

    private mutating func depart(_ decide: (inout Waiting) -> Outcome?) -> [Departure] {
        let departures = list.settle { entry in
            decide(&entry).map { Departure(call: entry.call, row: entry.lastRow, outcome: $0) }
        }
        for departure in departures { count(departure.outcome) }
        return departures
    }

    private mutating func count(_ outcome: Outcome) {
        switch outcome {
        case .found: statistics.found += 1
        case .foundWithoutHangup: statistics.foundWithoutHangup += 1
        case .notFound: statistics.notFound += 1
        case .databaseUnavailable: statistics.databaseUnavailable += 1
        case .evicted: statistics.evicted += 1
        }
    }
}
