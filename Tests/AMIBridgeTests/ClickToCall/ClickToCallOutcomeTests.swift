@testable import AMIBridge
import AMIProtocol
import AMITestSupport
import CRMSink
import EventMapper
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST /v1/calls` against recorded Asterisk 20 sessions: the fake server answers the bridge's
/// own Originate with the recording's events (ActionIDs rewritten to the bridge's), and the
/// call's status, reason and webhooks must follow what the recording shows.
@Suite("Click-to-call outcomes")
struct ClickToCallOutcomeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var capture: String
        var status: String
        var reason: String?
        var webhook: WebhookEvent.Name
        var testDescription: String { "\(capture) → \(status) \(reason ?? "")" }
    }

    static let cases: [Case] = [
        Case(capture: "originate-answered", status: "completed", reason: nil, webhook: .callComplete),
        Case(capture: "sip-originate-answered", status: "completed", reason: nil, webhook: .callComplete),
        Case(capture: "originate-agent-busy", status: "failed", reason: "agent_busy", webhook: .click2callFailed),
        Case(capture: "originate-agent-noanswer", status: "failed", reason: "agent_no_answer", webhook: .click2callFailed),
        Case(capture: "originate-customer-busy", status: "failed", reason: "customer_busy", webhook: .click2callFailed),
        Case(capture: "sip-originate-customer-busy", status: "failed", reason: "customer_busy", webhook: .click2callFailed),
        Case(capture: "originate-customer-noanswer", status: "failed", reason: "customer_no_answer", webhook: .click2callFailed),
        Case(capture: "originate-customer-congestion", status: "failed", reason: "congestion", webhook: .click2callFailed),
        Case(capture: "originate-bad-channel", status: "failed", reason: "originate_error", webhook: .click2callFailed),
    ]

    /// The recorded Originate's agent channel, context and number: the request asks for the same.
    static func recordedOriginate(_ capture: AMICapture) throws -> AMIMessage {
        let sent = capture.entries.filter { $0.dir == .send }.compactMap { CaptureReplay.parseAction($0.data) }
        return try #require(sent.first { $0["Action"] == "Originate" })
    }

    @Test("each recorded outcome reaches its status, reason and webhook", arguments: cases)
    func outcome(_ expected: Case) async throws {
        let capture = try AMICapture.load("asterisk-20", expected.capture)
        let originate = try Self.recordedOriginate(capture)
        let channel = try #require(originate["Channel"])
        let number = try #require(originate["Exten"])
        let context = try #require(originate["Context"])
        let replay = CaptureReplay(capture, chunking: .recorded)

        try await FakeAMIServer.withServer(behavior: replay.behavior) { server in
            try await ClickToCallHarness.with(amiPort: server.port, configure: { $0.context = context }) { harness, client in
                let (status, body, _) = try await harness.post(client, #"{"agent_phone": "\#(channel)", "phone_number": "\#(number)"}"#)
                #expect(status == .accepted)
                let callID = try #require(body["call_id"] as? String)
                #expect(["queued", "agent_ringing", "agent_answered", "customer_ringing", "connected", "completed", "failed"].contains(body["status"] as? String))
                try await harness.ended(callID)

                let (getStatus, call) = try await harness.get(client, callID)
                #expect(getStatus == .ok)
                #expect(call["status"] as? String == expected.status)
                #expect(call["reason"] as? String == expected.reason)
                #expect(call["agent_channel"] as? String == channel)
                #expect(call["phone_number"] as? String == number)
                #expect(call["ended_at"] is String)
                let stages = try #require(call["stages"] as? [String: String])
                if expected.status == "completed" {
                    #expect(Set(stages.keys) == ["queued", "agent_ringing", "agent_answered", "customer_ringing", "connected", "completed"])
                    #expect(call["linkedid"] is String)
                    #expect(call["hangup_cause"] as? Int == 16)
                } else {
                    #expect(stages.keys.contains("failed"))
                    #expect(!stages.keys.contains("completed"))
                }

                // The Originate the bridge wrote: the call id rides in a channel variable and the ActionID.
                let sent = try #require(server.receivedActions.last?.first { $0["Action"] == "Originate" })
                #expect(sent["Channel"] == channel)
                #expect(sent["Context"] == context)
                #expect(sent["Exten"] == number)
                #expect(sent["Async"] == "true")
                #expect(sent.values(for: "Variable").contains("CRM_CALL_ID=\(callID)"))
                #expect(sent.actionID == "c2c-\(callID)")

                let webhooks = harness.webhooks.all
                let final = try #require(webhooks.first { $0.name == expected.webhook })
                #expect(final.click2callID == callID)
                if expected.webhook == .click2callFailed {
                    #expect(final.extra["reason"] == expected.reason)
                }
                // Answered calls say so first, with the click-to-call id; failed ones never do.
                let answered = webhooks.filter { $0.name == .callAnswered }
                #expect(answered.count == (expected.status == "completed" ? 1 : 0))
                #expect(answered.allSatisfy { $0.click2callID == callID })
            }
        }
    }

    @Test("an Originate that never gets its OriginateResponse fails with reason timeout")
    func timeout() async throws {
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.queuingOriginates()) { server in
            try await ClickToCallHarness.with(amiPort: server.port, responseTimeout: 0.3) { harness, client in
                let (status, body, _) = try await harness.post(client, #"{"agent_phone": "SIP/1001", "phone_number": "18005551234"}"#)
                #expect(status == .accepted)
                // Queued, or already failed if the machine is slow enough for 0.3 s to pass first.
                #expect(["queued", "failed"].contains(body["status"] as? String))
                let callID = try #require(body["call_id"] as? String)
                try await harness.ended(callID)
                let (_, call) = try await harness.get(client, callID)
                #expect(call["status"] as? String == "failed")
                #expect(call["reason"] as? String == "timeout")
                let failed = harness.webhooks.all.filter { $0.name == .click2callFailed }
                #expect(failed.map(\.click2callID) == [callID])
                #expect(failed.first?.server == "dialer1")
                #expect(failed.first?.extra["reason"] == "timeout")
            }
        }
    }
}
