@testable import AMIBridge
import CRMSink
import EventMapper
import Foundation
import Testing
import ViciDial
import ViciDialTestSupport

/// What an inbound call's webhooks say once joined with its `vicidial_closer_log` row, and what a
/// `call_answered` says with ViciDial's data at the answer: the body a CRM receives.
@Suite struct InboundWebhookBodyTests {
    static func body(_ event: WebhookEvent) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(event.jsonBody())) as? [String: Any])
    }

    static func inboundRow(did: ViciDialDID?) -> ViciDialCallData {
        var row = ViciDialCallData(rowID: .inbound(closeCallID: 5150), uniqueid: "1700000000.7", leadID: 42)
        row.campaignID = "SALESLINE"
        row.user = "agent12"
        row.queueSeconds = 12.5
        row.did = did
        row.phoneNumber = "3125550101"
        row.listID = 101
        return row
    }

    @Test func anInboundCallCompleteCarriesTheInGroupTheAgentTheQueueTimeAndTheDID() throws {
        let call = TestCalls.call(uniqueids: ["1700000000.7"], start: 1_700_000_000, callerCode: TestCalls.callerCode("Y", leadID: 42))
        let event = WebhookEvent.callComplete(EnrichedCall(call: call, vicidial: Self.inboundRow(did: ViciDialDID(number: "18005550199", didID: "3", route: "IN_GROUP"))))
        let body = try Self.body(event)
        #expect(body["campaign_id"] as? String == "SALESLINE")
        #expect(body["agent_user"] as? String == "agent12")
        #expect(body["did"] as? String == "18005550199")
        #expect(body["did_extension"] as? String == "18005550199")
        #expect(body["did_id"] as? String == "3")
        #expect(body["did_route"] as? String == "IN_GROUP")
        #expect(body["queue_seconds"] as? String == "12.50")
        #expect(body["in_group"] as? String == "SALESLINE")
        #expect(body["closecallid"] as? String == "5150")
        // The standard keys are all there, in order, before the extra ones.
        #expect(event.fields.prefix(WebhookEvent.standardKeys.count).map(\.key) == WebhookEvent.standardKeys)
    }

    @Test func anInboundCallWithoutADIDRowHasAnEmptyDIDAndOutboundCallsHaveNoInboundKeys() throws {
        let call = TestCalls.call(uniqueids: ["1700000000.8"], start: 1_700_000_000)
        let inbound = try Self.body(.callComplete(EnrichedCall(call: call, vicidial: Self.inboundRow(did: nil))))
        #expect(inbound["did"] as? String == "")
        #expect(inbound["queue_seconds"] as? String == "12.50")
        var outboundRow = ViciDialCallData(rowID: .outbound(uniqueid: "1700000000.8"), uniqueid: "1700000000.8", leadID: 42)
        outboundRow.user = "VDAD"
        let outbound = try Self.body(.callComplete(EnrichedCall(call: call, vicidial: outboundRow)))
        for key in ["did", "did_extension", "queue_seconds", "in_group", "closecallid"] { #expect(outbound[key] == nil, "\(key)") }
        // ViciDial's placeholder for "no agent yet" is not an agent.
        #expect(outbound["agent_user"] is NSNull)
    }

    @Test func callAnsweredWithViciDialsDataAtTheAnswerIsAScreenPop() throws {
        var call = TestCalls.call(uniqueids: ["1700000000.9"], start: 1_700_000_000, callerCode: TestCalls.callerCode("M", leadID: 7))
        call.endedAt = nil
        var data = ViciDialAnswerData(agentUser: "agent21", leadID: 42)
        data.campaignID = "CAMP1"
        data.listID = 101
        data.phoneNumber = "3125550101"
        data.firstName = "Ada"
        let body = try Self.body(.callAnswered(CallAnswerQueue.Departure(call: call, data: data, outcome: .found)))
        #expect(body["event"] as? String == "call_answered")
        #expect(body["agent_user"] as? String == "agent21")
        #expect(body["lead_id"] as? Int == 42)
        #expect(body["campaign_id"] as? String == "CAMP1")
        #expect(body["list_id"] as? Int == 101)
        #expect(body["phone_number"] as? String == "3125550101")
        #expect(body["first_name"] as? String == "Ada")
        // Without data: the caller code's lead, as before.
        let bare = try Self.body(.callAnswered(CallAnswerQueue.Departure(call: call, data: nil, outcome: .databaseUnavailable)))
        #expect(bare["lead_id"] as? Int == 7)
        #expect(bare["agent_user"] is NSNull)
    }
}
