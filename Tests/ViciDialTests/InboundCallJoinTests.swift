@testable import EventMapper
import Testing
@testable import ViciDial
import ViciDialTestSupport

/// Inbound calls joined with their `vicidial_closer_log` row, against the real MariaDB: the
/// in-group, the answering agent, the queue time and the DID (`vicidial_did_log`).
@Suite struct InboundCallJoinTests {
    let driver: ViciDialTestDriver
    init() throws { driver = try ViciDialTestDriver() }

    func join(_ call: CallRecord, at now: Int) async throws -> CallEnricher.Result {
        let enricher = CallEnricher(repository: try ViciDialTestDriver.repository(), configuration: .init(retryInterval: 2, maximumWait: 20))
        _ = await enricher.callCompleted(call, at: Double(now))
        var time = Double(now)
        while time <= Double(now + 30) {
            if let result = await enricher.poll(at: time).first { return result }
            time += 2
        }
        throw CallNotJoined()
    }

    struct CallNotJoined: Error {}

    @Test func theInGroupTheAgentTheQueueTimeAndTheDID() async throws {
        let t = ViciDialTestDriver.epoch()
        let ingroup = "IG" + String(Int.random(in: 100_000...999_999))
        let did = "1800" + String(Int.random(in: 1_000_000...9_999_999))
        let lead = try await driver.insertLead(firstName: "Hedy")
        let carrier = ViciDialTestDriver.uniqueid(t)
        try await driver.routeByDID(uniqueid: carrier, did: did, didID: "42", at: t)
        let closeCallID = try await driver.queueInbound(uniqueid: carrier, leadID: lead, ingroup: ingroup, at: t + 1)
        try await driver.agentTakesInbound(closeCallID: closeCallID, user: "agent12", queueSeconds: "12.50")
        try await driver.hangUpInbound(closeCallID: closeCallID, at: t + 61)
        // Another call's DID on another uniqueid: not this call's.
        try await driver.routeByDID(uniqueid: ViciDialTestDriver.uniqueid(t), did: "18889990000", at: t)

        let call = TestCalls.call(uniqueids: [carrier, ViciDialTestDriver.uniqueid(t + 1)], start: t, end: t + 61,
                                  callerCode: TestCalls.callerCode("Y", leadID: lead))
        let result = try await join(call, at: t + 61)
        #expect(result.outcome == .found)
        let data = try #require(result.enrichedCall.vicidial)
        #expect(data.closeCallID == closeCallID)
        #expect(data.campaignID == ingroup)
        #expect(data.agentUser == "agent12")
        #expect(data.queueSeconds == 12.5)
        #expect(data.did == ViciDialDID(number: did, didID: "42", route: "IN_GROUP"))
    }

    @Test func theDIDIsFoundByTheCallsUniqueidWhenTheCloserLogHasNone() async throws {
        let t = ViciDialTestDriver.epoch()
        let ingroup = "IG" + String(Int.random(in: 100_000...999_999))
        let did = "1800" + String(Int.random(in: 1_000_000...9_999_999))
        let lead = try await driver.insertLead()
        let carrier = ViciDialTestDriver.uniqueid(t)
        try await driver.routeByDID(uniqueid: carrier, did: did, at: t)
        let closeCallID = try await driver.queueInbound(uniqueid: "", leadID: lead, ingroup: ingroup, at: t + 1)
        try await driver.agentTakesInbound(closeCallID: closeCallID, user: "agent13", queueSeconds: "3")
        try await driver.hangUpInbound(closeCallID: closeCallID, at: t + 31)

        let call = TestCalls.call(uniqueids: [carrier], start: t, end: t + 31, callerCode: TestCalls.callerCode("Y", leadID: lead))
        let data = try #require(try await join(call, at: t + 31).enrichedCall.vicidial)
        #expect(data.closeCallID == closeCallID)
        #expect(data.did?.number == did)
        #expect(data.queueSeconds == 3)
    }

    @Test func anInboundCallNoAgentTookHasNoAgentAndNoDIDWithoutADIDRoute() async throws {
        let t = ViciDialTestDriver.epoch()
        let ingroup = "IG" + String(Int.random(in: 100_000...999_999))
        let lead = try await driver.insertLead()
        let carrier = ViciDialTestDriver.uniqueid(t)
        let closeCallID = try await driver.queueInbound(uniqueid: carrier, leadID: lead, ingroup: ingroup, at: t)
        try await driver.hangUpInbound(closeCallID: closeCallID, at: t + 20)

        let call = TestCalls.call(uniqueids: [carrier], start: t, end: t + 20, callerCode: TestCalls.callerCode("Y", leadID: lead))
        let data = try #require(try await join(call, at: t + 20).enrichedCall.vicidial)
        #expect(data.user == "VDCL")
        #expect(data.agentUser == nil)
        #expect(data.did == nil)
        #expect(data.campaignID == ingroup)
    }
}
