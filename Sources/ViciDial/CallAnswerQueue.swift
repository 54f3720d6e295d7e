import EventMapper
/// Answered calls waiting a moment for what ViciDial knows of them (agent, lead) before their
/// `call_answered` goes out as a screen pop: pure decisions with the time passed in.
///
/// ViciDial writes the agent's live row and the call's log row around the answer, so a call is
/// looked up every ``Configuration/pollInterval`` (all waiting calls in one lookup) and leaves as
/// soon as both its agent and its lead are known, or at ``Configuration/maximumWait`` with what is
/// known. A failed lookup lets every call it covered leave at once: with the database down,
/// `call_answered` is not held back. Deadlines pass whether or not a lookup is running
/// (``deadlinesPassed(at:)``), so a hung database holds no call beyond its wait.
public struct CallAnswerQueue: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Seconds an answered call waits at most. Default 2; 0 sends `call_answered` at once.
        public var maximumWait: Double
        /// Seconds between lookups (and deadline checks). Default 0.25.
        public var pollInterval: Double
        /// The most calls waiting at once. Default 10,000.
        public var maximumWaiting: Int

        public init(maximumWait: Double = 2, pollInterval: Double = 0.25, maximumWaiting: Int = 10_000) {
            self.maximumWait = max(0, maximumWait)
            self.pollInterval = max(0.01, pollInterval)
            self.maximumWaiting = max(1, maximumWaiting)
        }
    }

    /// Why a call left.
    public enum Outcome: String, Sendable, Hashable {
        /// Agent and lead known.
        case found
        /// The wait ended first (with what was known by then, maybe nothing).
        case waitEnded = "wait_ended"
        /// The lookup failed: the database is unreachable.
        case databaseUnavailable = "database_unavailable"
        /// The call completed while it waited: its `call_answered` goes out before its `call_complete`.
        case callEnded = "call_ended"
        /// The bridge is stopping.
        case shutdown
        /// Pushed out by newer calls while the queue was full.
        case evicted
    }

    public struct Departure: Sendable, Hashable {
        public var call: CallRecord
        public var data: ViciDialAnswerData?
        public var outcome: Outcome

        public init(call: CallRecord, data: ViciDialAnswerData?, outcome: Outcome) {
            self.call = call
            self.data = data
            self.outcome = outcome
        }
    }

    struct Waiting: Sendable {
        var call: CallRecord
        var deadline: Double
        var data: ViciDialAnswerData?
    }

    public let configuration: Configuration
    private var list = PollingWaitList<Waiting> { CallKey($0.call) }

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    public var count: Int { list.count }
    public func contains(_ call: CallKey) -> Bool { list.contains(call) }

    /// A call was answered: it waits until `now + maximumWait`, looked up from the next poll on.
    /// Returns calls pushed out to make room.
    public mutating func callAnswered(_ call: CallRecord, at now: Double) -> [Departure] {
        wait(for: call, deadline: now + configuration.maximumWait, firstPollAt: now + configuration.pollInterval)
    }

    /// A call that was waiting when the bridge stopped waits again until its own deadline.
    public mutating func resume(_ call: CallRecord, deadline: Double, at now: Double) -> [Departure] {
        wait(for: call, deadline: deadline, firstPollAt: now)
    }

    private mutating func wait(for call: CallRecord, deadline: Double, firstPollAt: Double) -> [Departure] {
        guard !list.contains(CallKey(call)) else { return [] }
        return list.append(Waiting(call: call, deadline: deadline), limit: configuration.maximumWaiting, firstPollAt: firstPollAt)
            .map { Departure(call: $0.call, data: $0.data, outcome: .evicted) }
    }

    /// The calls to look up now, or nil when a lookup runs, none is due or nothing waits.
    public mutating func pollTimerFired(at now: Double) -> [CallRecord]? {
        list.startPoll(at: now)?.map(\.call)
    }

    /// The lookup answered: calls whose agent and lead are known leave, and those past their deadline.
    public mutating func lookupSucceeded(_ found: [CallKey: ViciDialAnswerData], at now: Double) -> [Departure] {
        let lookedUp = list.finishPoll(nextAt: now + configuration.pollInterval)
        return depart { entry in
            let key = CallKey(entry.call)
            if lookedUp.contains(key), let data = found[key] {
                entry.data = data
                if data.isComplete { return .found }
            }
            return now >= entry.deadline ? .waitEnded : nil
        }
    }

    /// The lookup failed: every call it covered leaves now, with what an earlier lookup found.
    public mutating func lookupFailed(at now: Double) -> [Departure] {
        let lookedUp = list.finishPoll(nextAt: now + configuration.pollInterval)
        return depart { lookedUp.contains(CallKey($0.call)) ? .databaseUnavailable : nil }
    }

    /// Calls past their deadline leave, even while a lookup runs.
    public mutating func deadlinesPassed(at now: Double) -> [Departure] {
        depart { now >= $0.deadline ? .waitEnded : nil }
    }

    /// These calls completed: they leave now, so their `call_answered` precedes their `call_complete`.
    public mutating func callsEnded(_ calls: Set<CallKey>) -> [Departure] {
        depart { calls.contains(CallKey($0.call)) ? .callEnded : nil }
    }

    /// Every waiting call leaves (graceful shutdown).
    public mutating func drain() -> [Departure] {
        depart { _ in .shutdown }
    }

    private mutating func depart(_ decide: (inout Waiting) -> Outcome?) -> [Departure] {
        list.settle { entry in decide(&entry).map { Departure(call: entry.call, data: entry.data, outcome: $0) } }
    }
}
