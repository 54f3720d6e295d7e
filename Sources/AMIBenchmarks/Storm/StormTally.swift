import AMITestSupport
import CRMSink
import Foundation
import NIOConcurrencyHelpers

/// What the storm's CRM received: requests by `X-AMIBridge-Event`, and for each call of the storm
/// (by the body's `linkedid`) its `call_answered`, `user_event` and `call_complete` with their
/// event ids, so a second delivery of one event id (a duplicate) and a second event for the
/// same call and kind under a new id (a re-emission) are told apart; and when the call's first
/// `call_complete` arrived.
///
/// Per-call arrays instead of a set of every event id: a 10-minute soak is millions of webhooks.
final class StormTally: Sendable {
    /// The three webhooks every storm call should cause.
    enum Kind: Int, CaseIterable {
        case callAnswered, userEvent, callComplete

        init?(event: String) {
            switch event {
            case "call_answered": self = .callAnswered
            case "user_event": self = .userEvent
            case "call_complete": self = .callComplete
            default: return nil
            }
        }
    }

    struct Snapshot: Sendable {
        var requests = 0
        var byEvent: [String: Int] = [:]
        /// The same event id received again.
        var duplicateDeliveries = 0
        /// Another event id for a call and kind already received.
        var reemitted = 0
        /// Requests whose body named no call of the storm.
        var unmatched = 0
        /// Calls with at least one `call_complete`.
        var completedCalls = 0
        /// When the last request arrived (``monotonicNanoseconds()``).
        var lastArrival: UInt64 = 0
    }

    private struct State {
        var snapshot = Snapshot()
        /// Index `call * 3 + kind`.
        var ids: [UUID?]
        var counts: [UInt32]
        /// First `call_complete` per call, 0 before.
        var completedAt: [UInt64]
        var unmatchedIDs: Set<UUID> = []
    }

    let calls: Int
    private let state: NIOLockedValueBox<State>

    init(calls: Int) {
        self.calls = calls
        state = NIOLockedValueBox(State(
            ids: [UUID?](repeating: nil, count: calls * Kind.allCases.count),
            counts: [UInt32](repeating: 0, count: calls * Kind.allCases.count),
            completedAt: [UInt64](repeating: 0, count: calls)
        ))
    }

    func record(event: String, eventID: UUID?, call: Int?, at time: UInt64) {
        state.withLockedValue { state in
            state.snapshot.requests += 1
            state.snapshot.byEvent[event, default: 0] += 1
            state.snapshot.lastArrival = time
            guard let call, call < calls, let kind = Kind(event: event) else {
                state.snapshot.unmatched += 1
                if let eventID, !state.unmatchedIDs.insert(eventID).inserted { state.snapshot.duplicateDeliveries += 1 }
                return
            }
            let index = call * Kind.allCases.count + kind.rawValue
            state.counts[index] += 1
            if state.counts[index] == 1 {
                state.ids[index] = eventID
                if kind == .callComplete {
                    state.completedAt[call] = time
                    state.snapshot.completedCalls += 1
                }
            } else if state.ids[index] == eventID {
                state.snapshot.duplicateDeliveries += 1
            } else {
                state.snapshot.reemitted += 1
            }
        }
    }

    var snapshot: Snapshot { state.withLockedValue { $0.snapshot } }

    /// `call_complete` arrival times of calls `range` (0 where none arrived).
    func completedAt(_ range: Range<Int>) -> [UInt64] {
        state.withLockedValue { Array($0.completedAt[range]) }
    }

    /// How many calls in `range` got exactly one of each kind, and how many lack some kind.
    func completeness(_ range: Range<Int>) -> (exactlyOnce: Int, callCompleteOnce: Int, missingWebhooks: Int) {
        state.withLockedValue { state in
            var exactlyOnce = 0
            var callCompleteOnce = 0
            var missing = 0
            for call in range {
                let base = call * Kind.allCases.count
                let counts = state.counts[base..<base + Kind.allCases.count]
                if counts.allSatisfy({ $0 == 1 }) { exactlyOnce += 1 }
                if counts[base + Kind.callComplete.rawValue] == 1 { callCompleteOnce += 1 }
                missing += counts.filter { $0 == 0 }.count
            }
            return (exactlyOnce, callCompleteOnce, missing)
        }
    }

    /// Calls in `range` that have had their `call_complete`.
    func completedCount(_ range: Range<Int>) -> Int {
        state.withLockedValue { state in state.completedAt[range].reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
    }

    /// The call of a webhook body: its `"linkedid":"<epoch>.<sequence>"` as the storm made it.
    static func call(inBody body: UnsafeRawBufferPointer) -> Int? {
        guard let key = body.range(of: "\"linkedid\":\""),
            let end = body[key.upperBound...].firstIndex(of: UInt8(ascii: "\""))
        else { return nil }
        return CallStormSource.call(ofLinkedid: UnsafeRawBufferPointer(rebasing: body[key.upperBound..<end]))
    }
}
