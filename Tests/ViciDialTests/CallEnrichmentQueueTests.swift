@testable import EventMapper
import Testing
import ViciDialTestSupport
@testable import ViciDial

@Suite struct CallEnrichmentQueueTests {
    let configuration = CallEnrichmentQueue.Configuration(retryInterval: 2, maximumWait: 10, maximumWaiting: 3)

    func row(for call: CallRecord, hungUp: Bool) -> ViciDialCallData {
        var row = ViciDialCallData(rowID: .outbound(uniqueid: call.uniqueids[0]), uniqueid: call.uniqueids[0], leadID: 1)
        row.endEpoch = hungUp ? Int64(call.startedAt) + 30 : nil
        return row
    }

    @Test func callsArrivingTogetherShareOneLookupAndLeaveWhenTheHangupIsWritten() {
        var queue = CallEnrichmentQueue(configuration: configuration)
        let a = TestCalls.call(uniqueids: ["100.1"], start: 100)
        let b = TestCalls.call(uniqueids: ["100.2"], start: 100)
        #expect(queue.callCompleted(a, at: 160).isEmpty)
        #expect(queue.callCompleted(b, at: 161).isEmpty)
        #expect(queue.callCompleted(a, at: 161).isEmpty)  // the same call twice waits once
        #expect(queue.pollTimerFired(at: 161) == nil)  // not due yet
        let lookup = queue.pollTimerFired(at: 162)
        #expect(lookup?.map(\.linkedid).sorted() == ["100.1", "100.2"])
        #expect(queue.pollTimerFired(at: 162) == nil)  // one lookup at a time
        // a's row is there but not hung up; b's is complete.
        let departures = queue.lookupSucceeded([CallKey(a): row(for: a, hungUp: false), CallKey(b): row(for: b, hungUp: true)], at: 162)
        #expect(departures.map(\.call.linkedid) == ["100.2"])
        #expect(departures.first?.outcome == .found)
        #expect(queue.count == 1)
        #expect(queue.nextPollTime == 164)
        // At a's deadline it leaves with the row as last read.
        _ = queue.pollTimerFired(at: 170)
        let late = queue.lookupSucceeded([:], at: 170)
        #expect(late.map(\.outcome) == [.foundWithoutHangup])
        #expect(late.first?.row?.uniqueid == "100.1")
        #expect(queue.count == 0)
        #expect(queue.nextPollTime == nil)
        #expect(queue.statistics.found == 1 && queue.statistics.foundWithoutHangup == 1 && queue.statistics.lookups == 2)
    }

    @Test func aCallAddedDuringALookupIsNotSettledByIt() {
        var queue = CallEnrichmentQueue(configuration: configuration)
        let a = TestCalls.call(uniqueids: ["1.1"], start: 0)
        let b = TestCalls.call(uniqueids: ["1.2"], start: 0)
        _ = queue.callCompleted(a, at: 0)
        #expect(queue.pollTimerFired(at: 2)?.count == 1)
        _ = queue.callCompleted(b, at: 3)
        let departures = queue.lookupSucceeded([CallKey(b): row(for: b, hungUp: true)], at: 3)
        #expect(departures.isEmpty)
        #expect(queue.count == 2)
    }

    @Test func failedLookupsKeepCallsUntilTheDeadlineThenTheyLeaveWithoutData() {
        var queue = CallEnrichmentQueue(configuration: configuration)
        let never = TestCalls.call(uniqueids: ["2.1"], start: 0)
        let seenEmpty = TestCalls.call(uniqueids: ["2.2"], start: 0)
        _ = queue.callCompleted(never, at: 0)
        _ = queue.callCompleted(seenEmpty, at: 0)
        _ = queue.pollTimerFired(at: 2)
        #expect(queue.lookupFailed(at: 2).isEmpty)
        _ = queue.pollTimerFired(at: 4)
        // One lookup works for... nothing: both still waiting, but now "not found" is known.
        #expect(queue.lookupSucceeded([:], at: 4).isEmpty)
        let late = TestCalls.call(uniqueids: ["2.3"], start: 5)
        _ = queue.callCompleted(late, at: 5)
        var time = 6.0
        var departures: [CallEnrichmentQueue.Departure] = []
        while departures.isEmpty, time < 30 {
            if queue.pollTimerFired(at: time) != nil { departures = queue.lookupFailed(at: time) }
            time += 1
        }
        #expect(time - 1 >= 10)
        #expect(Set(departures.map(\.outcome)) == [.notFound])
        #expect(departures.count == 2)
        while queue.count > 0, time < 40 {
            if queue.pollTimerFired(at: time) != nil { departures = queue.lookupFailed(at: time) }
            time += 1
        }
        #expect(departures.map(\.outcome) == [.databaseUnavailable])
        #expect(departures.first?.call.linkedid == "2.3")
        #expect(departures.allSatisfy { $0.row == nil })
        #expect(queue.statistics.failedLookups >= 3)
    }

    @Test func aFullQueuePushesOutTheOldestAndCountsThem() {
        var queue = CallEnrichmentQueue(configuration: configuration)
        let calls = (1...5).map { TestCalls.call(uniqueids: ["3.\($0)"], start: $0) }
        var evicted: [CallEnrichmentQueue.Departure] = []
        for (index, call) in calls.enumerated() { evicted += queue.callCompleted(call, at: Double(index)) }
        #expect(evicted.map(\.call.linkedid) == ["3.1", "3.2"])
        #expect(evicted.allSatisfy { $0.outcome == .evicted && $0.row == nil })
        #expect(queue.count == 3)
        #expect(queue.statistics.evicted == 2)
        #expect(queue.pollTimerFired(at: 10)?.map(\.linkedid) == ["3.3", "3.4", "3.5"])
    }
}
