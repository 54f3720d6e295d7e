import Foundation
import NIOConcurrencyHelpers

/// The pipeline's one notion of time. Calls carry epoch seconds (Asterisk's `Timestamp:`,
/// ViciDial's `*_epoch` columns), so deadlines are computed in them; loops sleep on the same
/// clock, so a test that drives a ``ManualEpochClock`` drives every wait and deadline at once.
public protocol EpochClock: Clock where Instant == EpochInstant, Duration == Swift.Duration {}

extension EpochClock {
    /// Now, in seconds since 1970.
    public var epochSeconds: Double { now.secondsSince1970 }
}

/// A point in wall-clock time, in seconds since 1970.
public struct EpochInstant: InstantProtocol, Hashable, Sendable {
    public var secondsSince1970: Double

    public init(secondsSince1970: Double) { self.secondsSince1970 = secondsSince1970 }

    public func advanced(by duration: Duration) -> EpochInstant {
        EpochInstant(secondsSince1970: secondsSince1970 + duration.seconds)
    }

    public func duration(to other: EpochInstant) -> Duration {
        .seconds(other.secondsSince1970 - secondsSince1970)
    }

    public static func < (lhs: EpochInstant, rhs: EpochInstant) -> Bool { lhs.secondsSince1970 < rhs.secondsSince1970 }
}

extension Duration {
    /// The duration in seconds, fractions included.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// The host's wall clock; sleeps measure elapsed time on the monotonic clock, so a clock step
/// (NTP) does not stretch or cut a poll interval.
public struct SystemEpochClock: EpochClock {
    public init() {}

    public var now: EpochInstant { EpochInstant(secondsSince1970: Date().timeIntervalSince1970) }
    public var minimumResolution: Duration { .microseconds(1) }

    public func sleep(until deadline: EpochInstant, tolerance: Duration?) async throws {
        try await ContinuousClock().sleep(for: now.duration(to: deadline), tolerance: tolerance)
    }
}

/// A clock that moves only when told to: sleepers wake when ``advance(by:)`` passes their deadline.
public final class ManualEpochClock: EpochClock, Sendable {
    private struct Sleeper {
        var deadline: EpochInstant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: EpochInstant
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
    }

    private let state: NIOLockedValueBox<State>

    public init(secondsSince1970: Double = 1_700_000_000) {
        state = NIOLockedValueBox(State(now: EpochInstant(secondsSince1970: secondsSince1970)))
    }

    public var now: EpochInstant { state.withLockedValue { $0.now } }
    public var minimumResolution: Duration { .zero }

    /// How many tasks are asleep on this clock: a test waits for a loop to park before advancing.
    public var sleeperCount: Int { state.withLockedValue { $0.sleepers.count } }

    public func sleep(until deadline: EpochInstant, tolerance: Duration?) async throws {
        let id: UInt64 = state.withLockedValue { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let due: Bool = state.withLockedValue { state in
                    if deadline <= state.now || Task.isCancelled { return true }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if due { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLockedValue { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }

    /// Moves time on and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let woken: [Sleeper] = state.withLockedValue { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return Array(due.values)
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }
}
