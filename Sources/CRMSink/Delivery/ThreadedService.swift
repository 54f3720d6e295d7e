import Foundation
import ServiceLifecycle

/// Runs a service whose work happens on threads of its own (blocking libcurl, libnats, SQLite),
/// never on Swift's cooperative pool: `start` starts them and calls its argument once they have
/// all ended; `stop` asks them to end, on graceful shutdown or cancellation. Returns when they have.
public func runOnThreadsUntilShutdown(
    start: @escaping @Sendable (_ finished: @escaping @Sendable () -> Void) -> Void, stop: @escaping @Sendable () -> Void
) async {
    await withTaskCancellationHandler {
        await withGracefulShutdownHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                start { continuation.resume() }
            }
        } onGracefulShutdown: {
            stop()
        }
    } onCancel: {
        stop()
    }
}

/// What a service's threads wait on: new work (``wake()``), the end of a backoff, or the stop,
/// which ends every wait at once.
public final class ThreadSignal: @unchecked Sendable {
    // @unchecked: `woken` and `stopped` are guarded by `condition`.
    private let condition = NSCondition()
    private var woken = false
    private var stopped = false

    public init() {}

    public var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    /// Ends the current or next ``waitForWork(upTo:)``.
    public func wake() {
        condition.lock()
        woken = true
        condition.signal()
        condition.unlock()
    }

    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Until woken or stopped, at most `limit`.
    public func waitForWork(upTo limit: Duration) {
        wait(upTo: limit, endedByWake: true)
    }

    /// A backoff: only the stop ends it early. True if stopped.
    @discardableResult
    public func pause(_ duration: Duration) -> Bool {
        wait(upTo: duration, endedByWake: false)
        return isStopped
    }

    private func wait(upTo limit: Duration, endedByWake: Bool) {
        let deadline = Date().addingTimeInterval(Double(limit / .milliseconds(1)) / 1000)
        condition.lock()
        while !stopped && !(endedByWake && woken) {
            if !condition.wait(until: deadline) { break }
        }
        if endedByWake { woken = false }
        condition.unlock()
    }
}
