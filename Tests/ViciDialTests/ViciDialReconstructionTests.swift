@testable import EventMapper
import Testing
@testable import ViciDial
import ViciDialTestSupport

@Suite struct ViciDialReconstructionTests {
    @Test func rowsOfTheOutageTheTrackerNeverSawBecomeReconstructedCalls() async throws {
        let driver = try ViciDialTestDriver()
        let t = ViciDialTestDriver.epoch()
        let campaign = ViciDialTestDriver.campaign()
        let lead = try await driver.insertLead(firstName: "Missed")
        let known = ViciDialTestDriver.uniqueid(t + 10)
        let missed = ViciDialTestDriver.uniqueid(t + 20)
        let endedInside = ViciDialTestDriver.uniqueid(t - 50)
        let before = ViciDialTestDriver.uniqueid(t - 500)
        let unanswered = ViciDialTestDriver.uniqueid(t + 250)
        for (uniqueid, start, end) in [(known, t + 10, t + 70), (missed, t + 20, t + 80), (endedInside, t - 50, t + 5), (before, t - 500, t - 400)] {
            try await driver.answerOutbound(uniqueid: uniqueid, leadID: lead, campaign: campaign, user: "agent1", status: "INCALL", phone: "15551230000", at: start)
            try await driver.hangUpOutbound(uniqueid: uniqueid, at: end)
        }
        try await driver.answerOutbound(uniqueid: unanswered, leadID: lead, campaign: campaign, status: "NA", at: t + 250)
        let closeCallID = try await driver.answerInbound(uniqueid: "", leadID: lead, ingroup: "SUPPORT", user: "agent2", at: t + 100)
        try await driver.hangUpInbound(closeCallID: closeCallID, at: t + 160)

        let calls = try await ViciDialTestDriver.repository().missedCalls(server: "dialer1", from: Double(t), to: Double(t + 300), knownUniqueids: [known])
        #expect(calls.map { $0.call.linkedid } == [endedInside, missed, "vicidial_closer_log:\(closeCallID)", unanswered])
        #expect(calls.allSatisfy { $0.call.reconstructed && $0.call.server == "dialer1" && $0.call.callerCode == nil })

        let answered = calls[1].call
        #expect(answered.legs.map(\.uniqueid) == [missed])
        #expect(answered.startedAt == Double(t + 20))
        #expect(answered.endedAt == Double(t + 80))
        #expect(answered.talkSeconds == 60)
        #expect(answered.outcome == .answered)
        #expect(answered.phoneNumber == "15551230000")
        #expect(calls[1].vicidial?.lead?.firstName == "Missed")

        let inbound = calls[2]
        #expect(inbound.call.legs.isEmpty)
        #expect(inbound.vicidial?.closeCallID == closeCallID)
        #expect(calls[3].call.answeredAt == nil)
        #expect(calls[3].call.outcome == nil)
    }
}
