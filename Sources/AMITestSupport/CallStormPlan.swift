/// Which calls a ``CallStormServer`` streams, how they interleave and how fast.
///
/// The stream is a row of slots. Slot `s` holds segment `p` of call `s - p * lag` for every
/// segment `p` of ``CallStormSource`` (calls outside the plan skipped): one call starts per slot,
/// each call's segments are `lag` slots apart, so `(segments - 1) * lag + 1` calls are live at
/// once, each with its events in recorded order, the way concurrent calls interleave on a busy
/// Asterisk. A plan without a rate writes slots as fast as the clients read them; with a rate,
/// slot `s` is due `s / rate` seconds after the start.
public struct CallStormPlan: Sendable, Hashable {
    /// The number of the plan's first call: plans run one after another use disjoint numbers, so
    /// every call everywhere has its own Linkedid.
    public var firstCall: Int
    public var calls: Int
    /// Calls started per second; nil for as fast as the clients read.
    public var callsPerSecond: Double?
    /// Slots between two segments of one call.
    public var lag: Int

    public init(firstCall: Int = 0, calls: Int, callsPerSecond: Double? = nil, lag: Int) {
        precondition(calls >= 0 && lag >= 1)
        self.firstCall = firstCall
        self.calls = calls
        self.callsPerSecond = callsPerSecond
        self.lag = lag
    }

    /// `calls` as fast as possible, about `concurrentCalls` interleaved at any moment (default 20,
    /// as in the `burst-20-calls` recording).
    public static func burst(calls: Int, firstCall: Int = 0, concurrentCalls: Int = 20, source: CallStormSource) -> CallStormPlan {
        CallStormPlan(firstCall: firstCall, calls: calls, lag: max(1, (concurrentCalls - 1) / max(1, source.segmentCount - 1)))
    }

    /// `callsPerSecond` new calls every second for `seconds`; each call lasts about `callSeconds`
    /// from its first event to its last, so `callsPerSecond × callSeconds` calls are live at once.
    public static func rate(_ callsPerSecond: Double, seconds: Double, callSeconds: Double = 2, firstCall: Int = 0, source: CallStormSource) -> CallStormPlan {
        let lag = Int((callsPerSecond * callSeconds / Double(max(1, source.segmentCount - 1))).rounded())
        return CallStormPlan(firstCall: firstCall, calls: Int((callsPerSecond * seconds).rounded()), callsPerSecond: callsPerSecond, lag: max(1, lag))
    }

    /// Slots until the last call's last segment.
    public func slotCount(segments: Int) -> Int {
        calls == 0 ? 0 : calls + (segments - 1) * lag
    }

    /// The (segment, call number) pairs of slot `slot`, older calls first.
    public func contents(ofSlot slot: Int, segments: Int) -> some Sequence<(segment: Int, call: Int)> {
        stride(from: segments - 1, through: 0, by: -1).lazy.compactMap { segment -> (segment: Int, call: Int)? in
            let index = slot - segment * lag
            return index >= 0 && index < calls ? (segment, firstCall + index) : nil
        }
    }

    /// Seconds after the start when slot `slot` is due (0 without a rate).
    public func dueTime(ofSlot slot: Int) -> Double {
        callsPerSecond.map { Double(slot) / $0 } ?? 0
    }
}
