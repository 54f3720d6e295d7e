@testable import EventMapper
import AMIProtocol
import Testing

/// Inputs from `scripts/fuzz.sh` (FuzzCallTracker) that broke the tracker, replayed as the fuzzer
/// fed them: recorded events, one edited, arriving 50 ms apart.
@Suite("Call tracker: fuzzing regressions")
struct CallTrackerFuzzRegressionTests {
    static let start = 1_795_615_000.0

    /// Feeds `items` 50 ms apart (as the fuzzer does), then lets every deadline pass.
    static func run(_ items: some Sequence<CaptureTimeline.Item>) -> (updates: [CallUpdate], tracker: CallTracker) {
        var tracker = CallTracker(configuration: .init(server: "fuzz"))
        var updates: [CallUpdate] = []
        var now = start
        for item in items {
            now += 0.05
            switch item {
            case .message(let message, _):
                updates += tracker.receive(message, at: now)
            case .originate(let actionID, let callID, let channel, _):
                tracker.originateSent(actionID: actionID, callID: callID, channel: channel, at: now)
            }
        }
        updates += tracker.tick(now: now + tracker.configuration.idleTimeout + tracker.configuration.originateResponseTimeout + 10)
        return (updates, tracker)
    }

    static func withTimestamp(_ item: CaptureTimeline.Item, _ timestamp: String) -> CaptureTimeline.Item {
        guard case .message(let message, let time) = item else { return item }
        let fields = message.fields.filter { $0.name != "Timestamp" }.map { (name: $0.name, value: $0.value) }
        return .message(AMIMessage(fields + [("Timestamp", timestamp)]), at: time)
    }

    @Test("crash-5f74186a: a Timestamp of 300 nines on a Newstate trapped converting the ring time to Int")
    func hugeTimestamp() throws {
        // originate-bad-channel items 9 to 66, item 56 (a Newstate) edited.
        let timeline = try CaptureTimeline("asterisk-20", "originate-bad-channel")
        var items = Array(timeline.items[9...66])
        items[56 - 9] = Self.withTimestamp(items[56 - 9], String(repeating: "9", count: 300))
        let (updates, tracker) = Self.run(items)
        #expect(tracker.liveCallCount == 0)
        #expect(!updates.completed.isEmpty)
        for record in updates.completed {
            #expect(record.startedAt.isFinite && (record.endedAt ?? 0).isFinite)
            #expect((record.ringSeconds ?? 0) >= 0 && (record.ringSeconds ?? 0) < 3600)
        }
    }

    @Test("a Timestamp that is no time (not finite, negative, absurdly far) is ignored: the same calls as without one",
          arguments: ["nan", "inf", "-inf", "-1", "1e300", String(repeating: "9", count: 300)])
    func timestampsThatAreNoTime(timestamp: String) throws {
        let timeline = try CaptureTimeline("asterisk-20", "originate-answered")
        let plain = Self.run(timeline.items).updates
        let stamped = Self.run(timeline.items.map { Self.withTimestamp($0, timestamp) }).updates
        #expect(!plain.completed.isEmpty)
        #expect(stamped == plain)
    }

    @Test("durations are whole non-negative seconds whatever the interval; a CoreShowChannel age that is no number is none")
    func totalConversions() {
        #expect(CallTracker.seconds(.nan) == 0)
        #expect(CallTracker.seconds(.infinity) == 0)
        #expect(CallTracker.seconds(-1e300) == 0)
        #expect(CallTracker.seconds(1e300) == Int(Int32.max))
        #expect(CallTracker.seconds(2.6) == 3)
        #expect(CallTracker.parseDuration("nan:00:00") == nil)
        #expect(CallTracker.parseDuration("-1:00:00") == nil)
        #expect(CallTracker.parseDuration("1e300:00:00") == nil)
        #expect(CallTracker.parseDuration("00:01:05") == 65)
    }
}
