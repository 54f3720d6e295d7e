@testable import AMIBridge
import Testing

/// The event-log publisher's retry schedule: computed, so tested as a sequence.
@Suite("Event log stage")
struct EventLogStageTests {
    @Test("failures wait 200 ms doubling to 10 s; the first and every 60th are logged; a success starts over")
    func failureStreak() {
        var streak = EventLogStage.FailureStreak(initial: .milliseconds(200), maximum: .seconds(10))
        let waits = (0..<8).map { _ in streak.failed() }
        #expect(waits.map(\.wait) == [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000].map { .milliseconds($0) })
        #expect(waits.map(\.log) == [true] + Array(repeating: false, count: 7))
        for _ in 8..<59 { _ = streak.failed() }
        #expect(streak.failed().log) // the 60th
        #expect(streak.succeeded() == 60)
        #expect(streak.count == 0)
        #expect(streak.failed() == (log: true, wait: .milliseconds(200)))
    }
}
