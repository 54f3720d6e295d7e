import NIOConcurrencyHelpers

/// Hands batches of updates on in the order they were made, although several tasks make them.
///
/// ``CallTrackingService`` makes its batches under its state lock (the event loop, the clock
/// tick, the reconcile after a login, a rejected Originate) and hands each on after releasing it,
/// where the handing-on may suspend while the next stage is full. Without turns, two batches
/// could overtake each other there: the reconcile's `answered` (from events held back during the
/// login) went out after the `completed` the event loop made a moment later, and a CRM got
/// `call_complete` before `call_answered`. A batch takes its turn under the same lock that made
/// it (``CallTrackingService/State/takeTurn()``) and waits here for the batches before it.
final class UpdateTurns: Sendable {
    private struct State {
        /// The turn being handed on now; later ones wait.
        var serving: UInt64 = 0
        var waiting: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    /// Returns once every earlier turn has ended.
    func wait(for turn: UInt64) async {
        if state.withLockedValue({ $0.serving == turn }) { return }
        await withCheckedContinuation { continuation in
            let now = state.withLockedValue { state -> Bool in
                if state.serving == turn { return true }
                state.waiting[turn] = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Lets the next turn go. Every turn taken must end, or the ones after it wait for ever.
    func end(_ turn: UInt64) {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.serving = turn + 1
            return state.waiting.removeValue(forKey: turn + 1)
        }
        next?.resume()
    }
}
