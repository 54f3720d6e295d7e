@testable import EventMapper
import Testing
import ViciDialTestSupport
@testable import ViciDial

@Suite struct ViciDialCallMatchTests {
    func row(_ uniqueid: String, lead: Int64, start: Int64?, inbound: Int64? = nil) -> ViciDialCallData {
        var row = ViciDialCallData(rowID: inbound.map { .inbound(closeCallID: $0) } ?? .outbound(uniqueid: uniqueid), uniqueid: uniqueid, leadID: lead)
        row.startEpoch = start
        return row
    }

    @Test func aUniqueidOfAnyLegWinsOverTheLead() {
        let call = TestCalls.call(uniqueids: ["1000.1", "1000.2"], start: 1000, callerCode: TestCalls.callerCode(leadID: 7))
        let byLead = row("1000.9", lead: 7, start: 1000)
        let byUniqueid = row("1000.2", lead: 8, start: 1300)
        let matches = ViciDialCallMatch.match(calls: [call], candidates: [byLead, byUniqueid], window: 120)
        #expect(matches[CallKey(call)]?.rowID == .outbound(uniqueid: "1000.2"))
    }

    @Test func theLeadMatchesOnTheUniqueidEpochThenTheNearestStartInTheWindow() {
        let code = TestCalls.callerCode(leadID: 7)
        let call = TestCalls.call(uniqueids: ["5000.1"], start: 5000, callerCode: code)
        // Same epoch prefix but a start outside the window: ViciDial's LIKE join still takes it.
        let prefix = row("5000.77", lead: 7, start: 5500)
        let near = row("5010.3", lead: 7, start: 5010)
        #expect(ViciDialCallMatch.match(calls: [call], candidates: [near, prefix], window: 120)[CallKey(call)]?.uniqueid == "5000.77")

        let far = row("4000.3", lead: 7, start: 4000)
        let nearer = row("5030.3", lead: 7, start: 5030)
        let nearest = row("4990.3", lead: 7, start: 4990)
        let other = row("5001.3", lead: 8, start: 5001)
        let matched = ViciDialCallMatch.match(calls: [call], candidates: [far, nearer, nearest, other], window: 120)
        #expect(matched[CallKey(call)]?.uniqueid == "4990.3")
        #expect(ViciDialCallMatch.match(calls: [call], candidates: [far], window: 120).isEmpty)
        // Without a caller code only uniqueids can match.
        let anonymous = TestCalls.call(uniqueids: ["5000.1"], start: 5000)
        #expect(ViciDialCallMatch.match(calls: [anonymous], candidates: [nearest], window: 120).isEmpty)
    }

    @Test func anInboundCallerCodePrefersTheCloserLog() {
        let outbound = row("7000.1", lead: 3, start: 7000)
        let inbound = row("7000.1", lead: 3, start: 7000, inbound: 55)
        let inboundCall = TestCalls.call(uniqueids: ["7000.1"], start: 7000, callerCode: TestCalls.callerCode("Y", leadID: 3))
        let outboundCall = TestCalls.call(uniqueids: ["7000.1"], start: 7000, callerCode: TestCalls.callerCode("V", leadID: 3))
        #expect(ViciDialCallMatch.match(calls: [inboundCall], candidates: [outbound, inbound], window: 60)[CallKey(inboundCall)]?.closeCallID == 55)
        #expect(ViciDialCallMatch.match(calls: [outboundCall], candidates: [inbound, outbound], window: 60)[CallKey(outboundCall)]?.isInbound == false)
    }

    @Test func epochPrefixOnlyReadsAsteriskUniqueids() {
        #expect(ViciDialCallMatch.epochPrefix("1700000000.123") == "1700000000.")
        #expect(ViciDialCallMatch.epochPrefix("'; DROP.x") == nil)
        #expect(ViciDialCallMatch.epochPrefix(".5") == nil)
        #expect(ViciDialCallMatch.epochPrefix("") == nil)
    }
}
