@testable import EventMapper
import Testing
import ViciDialTestSupport
@testable import ViciDial

@Suite struct DispositionQueueTests {
    func enriched(_ uniqueid: String, status: String? = "INCALL", row: Bool = true) -> EnrichedCall {
        var data = ViciDialCallData(rowID: .outbound(uniqueid: uniqueid), uniqueid: uniqueid, leadID: 1)
        data.status = status
        return EnrichedCall(call: TestCalls.call(uniqueids: [uniqueid], start: 0), vicidial: row ? data : nil)
    }

    func polled(_ rowID: ViciDialRowID, _ status: String?) -> [ViciDialRowID: ViciDialDispositionRow] {
        var row = ViciDialDispositionRow(rowID: rowID, status: status)
        row.user = "agent1"
        return [rowID: row]
    }

    @Test func onlyAFinalStatusIsEmittedAndOnlyOnce() {
        var queue = DispositionQueue(configuration: .init(pollInterval: 5, maximumWait: 100))
        let call = enriched("10.1")
        let id = ViciDialRowID.outbound(uniqueid: "10.1")
        #expect(queue.watch(call, at: 0).isEmpty)
        var emitted: [DispositionQueue.Outcome] = []
        var time = 5.0
        for status in ["INCALL", "DISPO", "queue", " ", "", nil, "NEW", "SALE", "NI"] as [String?] {
            if queue.pollTimerFired(at: time) != nil { emitted += queue.pollSucceeded(polled(id, status), at: time) }
            time += 5
        }
        #expect(emitted.count == 1)
        guard case .dispositionSet(let set) = emitted.first else { Issue.record("no disposition"); return }
        #expect(set.status == "SALE")
        #expect(set.user == "agent1")
        #expect(queue.count == 0)
        #expect(queue.statistics.dispositionsSet == 1)
    }

    @Test func theNonFinalSetIsConfigurable() {
        var queue = DispositionQueue(configuration: .init(pollInterval: 1, nonFinalStatuses: ["INCALL", "callbk"]))
        #expect(!queue.configuration.isFinal("CALLBK"))
        #expect(queue.configuration.isFinal("DISPO"))
        _ = queue.watch(enriched("11.1"), at: 0)
        _ = queue.pollTimerFired(at: 1)
        #expect(queue.pollSucceeded(polled(.outbound(uniqueid: "11.1"), "CALLBK"), at: 1).isEmpty)
        _ = queue.pollTimerFired(at: 2)
        #expect(queue.pollSucceeded(polled(.outbound(uniqueid: "11.1"), "DISPO"), at: 2).count == 1)
    }

    @Test func callsWithoutAFinalStatusAreGivenUpAfterTheWaitEvenWhilePollsFail() {
        var queue = DispositionQueue(configuration: .init(pollInterval: 5, maximumWait: 30))
        _ = queue.watch(enriched("12.1"), at: 0)
        _ = queue.watch(enriched("12.2"), at: 20)
        var outcomes: [DispositionQueue.Outcome] = []
        for time in stride(from: 5.0, through: 30, by: 5) where queue.pollTimerFired(at: time) != nil {
            outcomes += time == 15 ? queue.pollSucceeded(polled(.outbound(uniqueid: "12.1"), "DISPO"), at: time) : queue.pollFailed(at: time)
        }
        #expect(outcomes == [.gaveUp(enriched("12.1"), reason: .timedOut, lastStatus: "DISPO")])
        #expect(queue.count == 1)
        #expect(queue.statistics.failedPolls == 5)
    }

    @Test func callsWithoutARowAndOverflowLeaveAtOnce() {
        var queue = DispositionQueue(configuration: .init(maximumWaiting: 2))
        let noRow = enriched("13.0", row: false)
        #expect(queue.watch(noRow, at: 0) == [.gaveUp(noRow, reason: .noRow, lastStatus: nil)])
        _ = queue.watch(enriched("13.1"), at: 0)
        _ = queue.watch(enriched("13.2"), at: 0)
        #expect(queue.watch(enriched("13.1"), at: 0).isEmpty)
        #expect(queue.watch(enriched("13.3"), at: 0) == [.gaveUp(enriched("13.1"), reason: .evicted, lastStatus: "INCALL")])
        #expect(queue.count == 2)
        #expect(queue.statistics.evicted == 1)
    }

    @Test func callsSharingARowReadItOnceAndBothGetTheDisposition() {
        var queue = DispositionQueue(configuration: .init(pollInterval: 1))
        var first = enriched("14.1")
        first.call.server = "dialer1"
        var second = enriched("14.1")
        second.call.server = "dialer2"
        _ = queue.watch(first, at: 0)
        _ = queue.watch(second, at: 0)
        #expect(queue.pollTimerFired(at: 1) == [.outbound(uniqueid: "14.1")])
        #expect(queue.pollSucceeded(polled(.outbound(uniqueid: "14.1"), "NI"), at: 1).count == 2)
    }
}
