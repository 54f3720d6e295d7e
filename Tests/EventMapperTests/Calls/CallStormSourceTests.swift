import AMIProtocol
import AMITestSupport
import EventMapper
import NIOCore
import Testing

/// The storm benchmark's calls are only worth measuring if the tracker sees each one as the
/// recorded call it was stamped from: distinct, answered, with its UserEvent.
@Suite("Call storm source")
struct CallStormSourceTests {
    @Test("a burst is that many distinct answered calls, each with its UserEvent")
    func burstThroughTheTracker() throws {
        let source = try CallStormSource(epoch: 1_795_615_870)
        let plan = CallStormPlan.burst(calls: 60, firstCall: 40, source: source)
        var stream = ByteBuffer()
        for slot in 0..<plan.slotCount(segments: source.segmentCount) {
            for (segment, call) in plan.contents(ofSlot: slot, segments: source.segmentCount) {
                source.write(segment: segment, ofCall: call, into: &stream)
            }
        }
        #expect(stream.readableBytes == plan.calls * source.bytesPerCall)

        var decoder = AMIFrameDecoder()
        var tracker = CallTracker(configuration: .init(server: "storm"))
        var completed: [CallRecord] = []
        var userEventLinkedids: [String] = []
        var events = 0
        var time = 1_000.0
        while case .message(let message)? = try decoder.decode(buffer: &stream) {
            events += 1
            time += 0.001
            for update in tracker.receive(message, at: time) {
                switch update {
                case .completed(let call): completed.append(call)
                case .userEvent(let event): userEventLinkedids.append(event.linkedid ?? "")
                default: break
                }
            }
        }
        #expect(events == plan.calls * source.eventsPerCall)
        #expect(completed.count == plan.calls)
        #expect(completed.allSatisfy { $0.outcome == .answered && !$0.closedByTimeout })
        let expected = Set((40..<100).map { source.linkedid(ofCall: $0) })
        #expect(Set(completed.map(\.linkedid)) == expected)
        #expect(userEventLinkedids.count == plan.calls)
        #expect(Set(userEventLinkedids) == expected)
        #expect(Set(completed.map { CallStormSource.call(ofLinkedid: Array($0.linkedid.utf8)) }) == Set((40..<100).map { Optional($0) }))
        #expect(tracker.liveCallCount == 0)
    }

    @Test("a paced plan starts one call per slot, due at slot / rate")
    func pacedPlan() throws {
        let source = try CallStormSource(epoch: 1_795_615_870)
        let plan = CallStormPlan.rate(500, seconds: 2, callSeconds: 1, source: source)
        #expect(plan.calls == 1000)
        #expect(plan.dueTime(ofSlot: 250) == 0.5)
        // Each call's segments are lag slots apart: about rate × callSeconds calls live at once.
        #expect(plan.lag * (source.segmentCount - 1) >= 450 && plan.lag * (source.segmentCount - 1) <= 550)
        let first = Array(plan.contents(ofSlot: 0, segments: source.segmentCount))
        #expect(first.count == 1 && first[0].segment == 0 && first[0].call == 0)
    }
}
