import NIOConcurrencyHelpers

/// The answer to one call, handed from the connection's thread to the waiting task, which may
/// stop waiting first.
///
/// A task cancelled while its query runs (a `/readyz` probe past its time limit, an HTTP request
/// whose client went away) gets `CancellationError` at once and is not held by a hung query; the
/// query itself cannot be interrupted and ends on its thread at the latest at its read timeout,
/// its answer then dropped. Work not yet started when the caller gave up is skipped.
final class MariaDBPendingAnswer<Value: Sendable>: Sendable {
    private enum State {
        /// Before ``install(_:)``, the continuation is nil.
        case waiting(CheckedContinuation<Value, any Error>?)
        /// The caller gave up (its task was cancelled).
        case abandoned
        /// Resumed with the answer.
        case answered
    }

    private let state = NIOLockedValueBox(State.waiting(nil))

    /// Where the answer goes. Resumed at once with `CancellationError` if the caller already gave up.
    func install(_ continuation: CheckedContinuation<Value, any Error>) {
        let abandoned = state.withLockedValue { state -> Bool in
            guard case .waiting = state else { return true }
            state = .waiting(continuation)
            return false
        }
        if abandoned { continuation.resume(throwing: CancellationError()) }
    }

    /// The caller's task was cancelled: it stops waiting now.
    func abandon() {
        let continuation = state.withLockedValue { state -> CheckedContinuation<Value, any Error>? in
            guard case .waiting(let continuation) = state else { return nil }
            state = .abandoned
            return continuation
        }
        continuation?.resume(throwing: CancellationError())
    }

    /// Whether the caller gave up, so work not yet started need not run.
    var isAbandoned: Bool {
        state.withLockedValue { state in
            if case .abandoned = state { return true }
            return false
        }
    }

    /// The work's outcome; dropped when the caller gave up.
    func deliver(_ result: Result<Value, any Error>) {
        let continuation = state.withLockedValue { state -> CheckedContinuation<Value, any Error>? in
            guard case .waiting(let continuation) = state else { return nil }
            state = .answered
            return continuation
        }
        continuation?.resume(with: result)
    }
}
