@testable import AMIBridge
import CRMSink
import EventMapper
import Foundation
import Testing
import ViciDial

/// What a click-to-call request said, in its webhook bodies: alone, under a ViciDial row (which
/// wins for the fields it has), after a round trip through the held call's JSON, and the rule for
/// waiting for a row.
@Suite("Click-to-call origin in webhooks")
struct ClickToCallOriginTests {
    static let origin = ClickToCallOrigin(agentUser: "agent7", campaignID: "SALES", leadID: 4242, listID: 555, phoneNumber: "+18005551234")

    static func call(origin: ClickToCallOrigin?) -> CallRecord {
        var call = CallRecord(server: "dialer1", linkedid: "1700000000.1", legs: [CallLeg(uniqueid: "1700000000.1", channel: "SIP/1001-0001", createdAt: 1_700_000_000)],
                              callID: "c2c-1", startedAt: 1_700_000_000, outcome: .answered, phoneNumber: "918005551234")
        call.clickToCall = origin
        return call
    }

    @Test("without a row: every field the request gave; agent_phone requests have no agent_user")
    func withoutRow() throws {
        for event in [WebhookEvent.callAnswered(Self.call(origin: Self.origin)), .callComplete(EnrichedCall(call: Self.call(origin: Self.origin), vicidial: nil))] {
            #expect(event.agentUser == "agent7")
            #expect(event.campaignID == "SALES")
            #expect(event.leadID == 4242)
            #expect(event.listID == 555)
            #expect(event.phoneNumber == "+18005551234")
            #expect(event.click2callID == "c2c-1")
            #expect(event.extra["user"] == "agent7" && event.extra["campaign"] == "SALES" && event.extra["list_id"] == "555")
            #expect(event.recipients == .all)
        }
        let timedOut = WebhookEvent.click2callTimedOut(callID: "c2c-1", server: "dialer1", origin: Self.origin)
        #expect(timedOut.agentUser == "agent7" && timedOut.listID == 555 && timedOut.phoneNumber == "+18005551234")
        #expect(WebhookEvent.callAnswered(Self.call(origin: nil)).agentUser == nil)
    }

    @Test("a row wins for the fields it has; the request fills the rest")
    func rowWins() throws {
        var row = ViciDialCallData(rowID: .outbound(uniqueid: "1700000000.1"), uniqueid: "1700000000.1", leadID: 77)
        row.user = "agent9"
        row.campaignID = "ROWCAMP"
        let event = WebhookEvent.callComplete(EnrichedCall(call: Self.call(origin: Self.origin), vicidial: row))
        #expect(event.agentUser == "agent9")
        #expect(event.campaignID == "ROWCAMP")
        #expect(event.leadID == 77)
        #expect(event.listID == 555, "the row has no list_id: the request's stays")
        #expect(event.extra["user"] == "agent9" && event.extra["list_id"] == "555")
        #expect(event.recipients == .notWaitingForDisposition, "a joined call waits for its disposition next")
    }

    @Test("kept in both held calls' JSON (row and disposition wait); a call held before this field existed reads back without it")
    func heldRoundTrip() throws {
        let held = HeldCall.waitingForRow(Self.call(origin: Self.origin), deadline: 1)
        #expect(held.decoded(as: CallRecord.self)?.clickToCall == Self.origin)
        let joined = EnrichedCall(call: Self.call(origin: Self.origin), vicidial: ViciDialCallData(rowID: .outbound(uniqueid: "1700000000.1"), uniqueid: "1700000000.1", leadID: 4242))
        #expect(HeldCall.waitingForDisposition(joined, deadline: 1).decoded(as: EnrichedCall.self)?.call.clickToCall == Self.origin)
        var old = try #require(try JSONSerialization.jsonObject(with: Data(held.payload)) as? [String: Any])
        old["clickToCall"] = nil
        let legacy = HeldCall(kind: held.kind, callKey: held.callKey, payload: Array(try JSONSerialization.data(withJSONObject: old)), deadline: 1)
        let read = try #require(legacy.decoded(as: CallRecord.self))
        #expect(read.clickToCall == nil && read.callID == "c2c-1")
    }

    @Test("only a request with a lead_id waits for a ViciDial row; the status page does not keep the others as awaiting one")
    func rowWait() {
        #expect(Self.origin.expectsViciDialRow)
        var withoutLead = Self.origin
        withoutLead.leadID = nil
        #expect(!withoutLead.expectsViciDialRow)
        for (origin, kept) in [(Self.origin, true), (withoutLead, false)] {
            let board = StatusBoard(completedCallsAreHeld: true)
            board.apply([.started(Self.call(origin: origin)), .completed(Self.call(origin: origin))])
            #expect((board.snapshot.live["dialer1/1700000000.1"] != nil) == kept, "lead_id \(origin.leadID.map(String.init) ?? "none")")
        }
    }
}
