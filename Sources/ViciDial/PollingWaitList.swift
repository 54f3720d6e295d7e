/// The bookkeeping both waiting queues share (calls waiting for their row, calls waiting for a
/// disposition): entries oldest first, one per call, bounded, a poll schedule, and at most one
/// poll in flight. The queues decide what a poll result means; this only keeps the list.
struct PollingWaitList<Entry: Sendable>: Sendable {
    private(set) var entries: [Entry] = []
    private var keys: Set<CallKey> = []
    /// The calls of the poll being run, nil when none is.
    private(set) var inFlight: Set<CallKey>?
    private var nextPollAt: Double?
    let key: @Sendable (Entry) -> CallKey

    init(key: @escaping @Sendable (Entry) -> CallKey) {
        self.key = key
    }

    var count: Int { entries.count }
    var nextPollTime: Double? { entries.isEmpty ? nil : nextPollAt }

    func contains(_ call: CallKey) -> Bool { keys.contains(call) }

    /// Appends `entry`, first removing (and returning) the oldest entries beyond `limit`. New
    /// entries wait for the next scheduled poll, so entries arriving together share one.
    mutating func append(_ entry: Entry, limit: Int, firstPollAt: Double) -> [Entry] {
        var evicted: [Entry] = []
        while entries.count >= limit {
            let oldest = entries.removeFirst()
            keys.remove(key(oldest))
            evicted.append(oldest)
        }
        entries.append(entry)
        keys.insert(key(entry))
        if nextPollAt == nil { nextPollAt = firstPollAt }
        return evicted
    }

    /// The entries to poll now, or nil when a poll is running, none is due or nothing waits.
    mutating func startPoll(at now: Double) -> [Entry]? {
        guard inFlight == nil, !entries.isEmpty, let due = nextPollAt, now >= due else { return nil }
        inFlight = keys
        return entries
    }

    /// Ends the poll in flight and schedules the next; returns the calls that poll covered.
    mutating func finishPoll(nextAt: Double) -> Set<CallKey> {
        defer { inFlight = nil }
        nextPollAt = nextAt
        return inFlight ?? []
    }

    /// Removes the entries `decide` settles, in order, returning what it decided for them.
    mutating func settle<Result>(_ decide: (inout Entry) -> Result?) -> [Result] {
        var results: [Result] = []
        var staying: [Entry] = []
        staying.reserveCapacity(entries.count)
        for var entry in entries {
            if let result = decide(&entry) {
                keys.remove(key(entry))
                results.append(result)
            } else {
                staying.append(entry)
            }
        }
        entries = staying
        if entries.isEmpty { nextPollAt = nil }
        return results
    }
}
