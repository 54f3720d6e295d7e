@testable import EventMapper
@testable import MariaDB
import Testing
@testable import ViciDial
import ViciDialTestSupport

/// The enricher against the real MariaDB, rows written the way ViciDial writes them, time driven
/// by the test (`poll(at:)`), so "a few seconds later" takes none.
@Suite struct CallEnricherTests {
    let driver: ViciDialTestDriver
    init() throws { driver = try ViciDialTestDriver() }

    func makeEnricher(retry: Double = 2, wait: Double = 20) throws -> CallEnricher {
        CallEnricher(repository: try ViciDialTestDriver.repository(), configuration: .init(retryInterval: retry, maximumWait: wait))
    }

    /// Polls every `step` seconds from `from` until something leaves or `until` passes.
    func pollUntilResult(_ enricher: CallEnricher, from: Double, until: Double, step: Double = 2) async -> (time: Double, results: [CallEnricher.Result]) {
        var time = from
        while time <= until {
            let results = await enricher.poll(at: time)
            if !results.isEmpty { return (time, results) }
            time += step
        }
        return (time, [])
    }

    @Test func joinsByUniqueidWithLeadRecordingTalkTimeAndFlags() async throws {
        let t = ViciDialTestDriver.epoch()
        let campaign = ViciDialTestDriver.campaign()
        let customer = ViciDialTestDriver.uniqueid(t + 1)
        let lead = try await driver.insertLead(firstName: "Zoë", lastName: "O'Brien", comments: "call after 5")
        try await driver.answerOutbound(uniqueid: customer, leadID: lead, campaign: campaign, user: "agent7", status: "INCALL", at: t + 5)
        try await driver.hangUpOutbound(uniqueid: customer, at: t + 65)
        try await driver.insertAgentLog(user: "agent7", leadID: lead, campaign: campaign, uniqueid: customer, talkEpoch: t + 5, talkSeconds: 70, deadSeconds: 12)
        let recordingID = try await driver.insertRecording(vicidialID: customer, leadID: lead, filename: "20260115-\(lead)", at: t + 5)
        try await driver.defineCampaignStatus(campaign: campaign, status: "DISPO", sale: false, humanAnswered: true, category: "WAITING")

        let call = TestCalls.call(uniqueids: [ViciDialTestDriver.uniqueid(t), customer], start: t, end: t + 65)
        let enricher = try makeEnricher()
        #expect(await enricher.callCompleted(call, at: Double(t + 65)).isEmpty)
        let (time, results) = await pollUntilResult(enricher, from: Double(t + 65), until: Double(t + 90))
        #expect(time == Double(t + 67))
        let result = try #require(results.first)
        #expect(results.count == 1)
        #expect(result.outcome == .found)
        #expect(result.enrichedCall.call == call)
        let data = try #require(result.enrichedCall.vicidial)
        #expect(data.rowID == .outbound(uniqueid: customer))
        #expect(data.leadID == lead)
        #expect(data.listID == 101)
        #expect(data.campaignID == campaign)
        #expect(data.user == "agent7")
        #expect(data.status == "DISPO")
        #expect(data.termReason == "CALLER")
        #expect(data.lengthInSeconds == 60)
        #expect(data.startEpoch == Int64(t + 5) && data.endEpoch == Int64(t + 65))
        #expect(!data.isInbound)
        #expect(data.lead?.firstName == "Zoë")
        #expect(data.lead?.lastName == "O'Brien")
        #expect(data.lead?.comments == "call after 5")
        #expect(data.lead?.vendorLeadCode == "VL-1")
        #expect(data.lead?.city == "London")
        #expect(data.lead?.postalCode == "N1 9GU")
        #expect(data.recording?.recordingID == recordingID)
        #expect(data.recording?.filename == "20260115-\(lead)")
        #expect(data.recording?.location?.hasSuffix("20260115-\(lead).wav") == true)
        #expect(data.agentTalkSeconds == 58)
        #expect(data.statusFlags?.campaignID == campaign)
        #expect(data.statusFlags?.humanAnswered == true)
        #expect(data.statusFlags?.sale == false)
        #expect(data.statusFlags?.category == "WAITING")
        #expect(await enricher.waitingCount == 0)
    }

    @Test func joinsThroughTheCallerCodeLeadWhenNoUniqueidMatches() async throws {
        let t = ViciDialTestDriver.epoch()
        let campaign = ViciDialTestDriver.campaign()
        let lead = try await driver.insertLead()
        // An earlier attempt of the same lead (an hour before) must not be taken.
        let earlier = ViciDialTestDriver.uniqueid(t - 3600)
        try await driver.answerOutbound(uniqueid: earlier, leadID: lead, campaign: campaign, at: t - 3600)
        try await driver.hangUpOutbound(uniqueid: earlier, at: t - 3500)
        // This call's row carries a uniqueid none of the call's channels has.
        let rowUniqueid = ViciDialTestDriver.uniqueid(t + 7)
        try await driver.answerOutbound(uniqueid: rowUniqueid, leadID: lead, campaign: campaign, at: t + 8)
        try await driver.hangUpOutbound(uniqueid: rowUniqueid, at: t + 40, termReason: "AGENT")

        let code = TestCalls.callerCode("V", leadID: lead)
        let call = TestCalls.call(uniqueids: [ViciDialTestDriver.uniqueid(t), ViciDialTestDriver.uniqueid(t)], start: t, end: t + 40, callerCode: code)
        let enricher = try makeEnricher()
        _ = await enricher.callCompleted(call, at: Double(t + 40))
        let (_, results) = await pollUntilResult(enricher, from: Double(t + 40), until: Double(t + 60))
        let data = try #require(results.first?.enrichedCall.vicidial)
        #expect(data.uniqueid == rowUniqueid)
        #expect(data.termReason == "AGENT")
        #expect(data.leadID == lead)

        // The same lead without a caller code cannot be joined.
        let anonymous = TestCalls.call(uniqueids: [ViciDialTestDriver.uniqueid(t)], start: t, end: t + 40)
        let other = try makeEnricher(wait: 4)
        _ = await other.callCompleted(anonymous, at: Double(t + 40))
        let (_, none) = await pollUntilResult(other, from: Double(t + 40), until: Double(t + 60))
        #expect(none.map(\.outcome) == [.notFound])
        #expect(none.first?.enrichedCall.vicidial == nil)
    }

    @Test func inboundCallsJoinTheCloserLogAndItsRecording() async throws {
        let t = ViciDialTestDriver.epoch()
        let ingroup = "IG" + String(Int.random(in: 100_000...999_999))
        let lead = try await driver.insertLead(firstName: "Grace")
        let uniqueid = ViciDialTestDriver.uniqueid(t)
        let closeCallID = try await driver.answerInbound(uniqueid: uniqueid, leadID: lead, ingroup: ingroup, user: "agent9", at: t + 2)
        try await driver.hangUpInbound(closeCallID: closeCallID, at: t + 92)
        try await driver.insertRecording(vicidialID: String(closeCallID), leadID: lead, filename: "IN-\(closeCallID)", at: t + 2)
        // A decoy recording keyed by the uniqueid: inbound recordings are keyed by closecallid.
        try await driver.insertRecording(vicidialID: uniqueid, leadID: lead, filename: "WRONG-\(closeCallID)", at: t + 2)

        let call = TestCalls.call(uniqueids: [uniqueid], start: t, end: t + 92, callerCode: TestCalls.callerCode("Y", leadID: lead))
        let enricher = try makeEnricher()
        _ = await enricher.callCompleted(call, at: Double(t + 92))
        let (_, results) = await pollUntilResult(enricher, from: Double(t + 92), until: Double(t + 120))
        let data = try #require(results.first?.enrichedCall.vicidial)
        #expect(data.isInbound)
        #expect(data.closeCallID == closeCallID)
        #expect(data.campaignID == ingroup)
        #expect(data.user == "agent9")
        #expect(data.lengthInSeconds == 90)
        #expect(data.lead?.firstName == "Grace")
        #expect(data.recording?.filename == "IN-\(closeCallID)")
    }

    @Test func aRowWrittenAfterTheHangupIsFoundOnALaterPoll() async throws {
        let t = ViciDialTestDriver.epoch()
        let campaign = ViciDialTestDriver.campaign()
        let lead = try await driver.insertLead()
        let uniqueid = ViciDialTestDriver.uniqueid(t)
        let call = TestCalls.call(uniqueids: [uniqueid], start: t, end: t + 30)
        let enricher = try makeEnricher(retry: 2, wait: 60)
        _ = await enricher.callCompleted(call, at: Double(t + 30))

        #expect(await enricher.poll(at: Double(t + 32)).isEmpty)  // no row yet
        try await driver.answerOutbound(uniqueid: uniqueid, leadID: lead, campaign: campaign, at: t + 1)
        #expect(await enricher.poll(at: Double(t + 34)).isEmpty)  // row, but the hangup is not written
        #expect(await enricher.waitingCount == 1)
        try await driver.agentTakes(uniqueid: uniqueid, user: "agent3")
        try await driver.hangUpOutbound(uniqueid: uniqueid, at: t + 30)
        #expect(await enricher.poll(at: Double(t + 35)).isEmpty)  // not due: one poll per interval
        let results = await enricher.poll(at: Double(t + 36))
        #expect(results.map(\.outcome) == [.found])
        #expect(results.first?.enrichedCall.vicidial?.user == "agent3")
        #expect(results.first?.enrichedCall.vicidial?.status == "DISPO")
        #expect(await enricher.statistics.lookups == 3)
    }

    @Test func aCallWithNoRowIsEmittedAfterTheWaitWithoutData() async throws {
        let t = ViciDialTestDriver.epoch()
        let call = TestCalls.call(uniqueids: [ViciDialTestDriver.uniqueid(t)], start: t, callerCode: TestCalls.callerCode(leadID: 999_999_999))
        let enricher = try makeEnricher(retry: 5, wait: 30)
        _ = await enricher.callCompleted(call, at: Double(t + 60))
        let (time, results) = await pollUntilResult(enricher, from: Double(t + 60), until: Double(t + 200), step: 5)
        #expect(time == Double(t + 90))
        #expect(results.map(\.outcome) == [.notFound])
        #expect(results.first?.enrichedCall == EnrichedCall(call: call, vicidial: nil))
        #expect(await enricher.lastError == nil)
    }

    @Test func hostileUniqueidsAndValuesAreOnlyData() async throws {
        let t = ViciDialTestDriver.epoch()
        let campaign = ViciDialTestDriver.campaign()
        let drop = "'; DROP TABLE vicidial_log; --"
        let control = "1\r\n2\u{0}3\t'\"\\%_"
        let lead = try await driver.insertLead(firstName: drop, lastName: control, comments: "\(drop)\r\n\u{1b}[31mred")
        let uniqueid = ViciDialTestDriver.uniqueid(t)
        try await driver.answerOutbound(uniqueid: uniqueid, leadID: lead, campaign: campaign, user: "agent1", status: "INCALL",
                                        phone: control, at: t, comments: drop)
        try await driver.hangUpOutbound(uniqueid: uniqueid, at: t + 10)
        // The tracker's values come from the network: uniqueids and caller IDs carrying SQL.
        var call = TestCalls.call(uniqueids: [drop, control, "\(t).%", uniqueid], start: t, end: t + 10, phone: drop)
        call.legs[0].callerIDNum = drop
        let enricher = try makeEnricher()
        _ = await enricher.callCompleted(call, at: Double(t + 10))
        let (_, results) = await pollUntilResult(enricher, from: Double(t + 10), until: Double(t + 30))
        let data = try #require(results.first?.enrichedCall.vicidial)
        #expect(data.uniqueid == uniqueid)
        #expect(data.phoneNumber == control)
        #expect(data.comments == drop)
        #expect(data.lead?.firstName == drop)
        #expect(data.lead?.lastName == control)
        #expect(data.lead?.comments == "\(drop)\r\n\u{1b}[31mred")
        #expect(results.first?.enrichedCall.call.phoneNumber == drop)

        // The disposition poll takes hostile keys too.
        let watcher = DispositionWatcher(repository: try ViciDialTestDriver.repository(), configuration: .init(pollInterval: 1))
        var hostile = ViciDialCallData(rowID: .outbound(uniqueid: drop), uniqueid: drop, leadID: 1)
        hostile.status = "INCALL"
        _ = await watcher.watch(EnrichedCall(call: call, vicidial: hostile), at: 0)
        #expect(await watcher.poll(at: 1).isEmpty)
        #expect(await watcher.lastError == nil)

        let tables = try await driver.root.query("SELECT COUNT(*) AS n FROM vicidial_log WHERE uniqueid = ?", [.string(uniqueid)])
        #expect(try tables.first?.int("n") == 1)
        let stored = try await driver.root.query("SELECT phone_number FROM vicidial_log WHERE uniqueid = ?", [.string(uniqueid)])
        #expect(try stored.first?.string("phone_number") == control)
    }
}
