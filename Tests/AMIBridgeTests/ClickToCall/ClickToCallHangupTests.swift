@testable import AMIBridge
import AMIProtocol
import AMITestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `DELETE /v1/calls/{id}` hangs up the call's live channels by name.
@Suite("Click-to-call hangup")
struct ClickToCallHangupTests {
    /// Asterisk that rings the agent's phone (`SIP/1001-00000001`) once the client sends
    /// `ringOn` (`Originate`, or `UserEvent` as a test's signal, so that until then the call has
    /// no channel at all), hangs it up on a Hangup action, then reports the Originate failed
    /// (Reason 1: hung up), as Asterisk 20 does.
    static func ringsUntilHungUp(ringOn: String = "Originate") -> FakeAMIServer.Behavior {
        FakeAMIServer.asterisk { session in
            var originateID = ""
            while let action = try await session.nextAction() {
                let id = action.actionID.map { "ActionID: \($0)\r\n" } ?? ""
                switch action["Action"] {
                case "Originate", "UserEvent":
                    if action["Action"] == "Originate" {
                        originateID = action.actionID ?? ""
                        try await session.write("Response: Success\r\n\(id)Message: Originate successfully queued\r\n\r\n")
                    } else {
                        try await session.write("Response: Success\r\n\(id)\r\n")
                    }
                    if action["Action"] == ringOn {
                        try await session.write(Self.channelEvent("Newchannel", state: (0, "Down")) + Self.channelEvent("Newstate", state: (5, "Ringing")))
                    }
                case "Hangup" where action["Channel"] == "SIP/1001-00000001":
                    try await session.write("Response: Success\r\n\(id)Message: Channel Hungup\r\n\r\n")
                    try await session.write(Self.channelEvent("Hangup", state: (5, "Ringing"), extra: "Cause: 16\r\nCause-txt: Normal Clearing\r\n"))
                    try await session.write("Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: \(originateID)\r\nResponse: Failure\r\nChannel: SIP/1001\r\nContext: customers\r\nExten: 18005551234\r\nReason: 1\r\nUniqueid: <unknown>\r\nCallerIDNum: <unknown>\r\nCallerIDName: <unknown>\r\n\r\n")
                default:
                    guard try await session.answerGenerically(action) else { return }
                }
            }
        }
    }

    @Test("DELETE before the call has a channel is remembered: the Hangup goes out when the phone starts ringing")
    func hangUpBeforeTheFirstChannel() async throws {
        try await FakeAMIServer.withServer(behavior: Self.ringsUntilHungUp(ringOn: "UserEvent")) { server in
            try await ClickToCallHarness.with(amiPort: server.port) { harness, client in
                let (_, body, _) = try await harness.post(client, #"{"agent_phone":"SIP/1001","phone_number":"18005551234"}"#)
                let callID = try #require(body["call_id"] as? String)
                try await client.execute(uri: "/v1/calls/\(callID)", method: .delete, headers: harness.authorization) { response in
                    #expect(response.status == .accepted)
                    let call = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                    #expect(call?["status"] as? String == "queued")
                    #expect(call?["hangup_requested"] as? Bool == true)
                }
                #expect(!server.receivedActions.flatMap { $0 }.contains { $0["Action"] == "Hangup" })

                // The phone starts ringing; the deferred Hangup follows, and the call ends.
                _ = try await harness.service.servers[0].send(AMIAction("UserEvent", [("UserEvent", "ring")]))
                try await harness.ended(callID)
                let hangups = server.receivedActions.flatMap { $0 }.filter { $0["Action"] == "Hangup" }
                #expect(hangups.map { $0["Channel"] } == ["SIP/1001-00000001"])
                #expect(try await harness.get(client, callID).1["status"] as? String == "failed")
            }
        }
    }

    static func channelEvent(_ name: String, state: (Int, String), extra: String = "") -> String {
        "Event: \(name)\r\nPrivilege: call,all\r\nChannel: SIP/1001-00000001\r\nChannelState: \(state.0)\r\nChannelStateDesc: \(state.1)\r\n"
            + "CallerIDNum: 1001\r\nCallerIDName: <unknown>\r\nConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\nLanguage: en\r\n"
            + "AccountCode: \r\nContext: from-internal\r\nExten: s\r\nPriority: 1\r\nUniqueid: 1795615870.0\r\nLinkedid: 1795615870.0\r\n\(extra)\r\n"
    }

    @Test("DELETE hangs up the ringing agent leg; the call then fails; a second DELETE is 409")
    func hangUp() async throws {
        try await FakeAMIServer.withServer(behavior: Self.ringsUntilHungUp()) { server in
            try await ClickToCallHarness.with(amiPort: server.port) { harness, client in
                let (_, body, _) = try await harness.post(client, #"{"agent_phone":"SIP/1001","phone_number":"18005551234"}"#)
                let callID = try #require(body["call_id"] as? String)
                // Wait until the tracker has seen the agent's phone ring.
                try await withDeadline(.seconds(30)) {
                    for await update in harness.updates {
                        if case .progressed(let record, .agentRinging) = update, record.callID == callID { return }
                    }
                }
                #expect(try await harness.get(client, callID).1["status"] as? String == "agent_ringing")

                try await client.execute(uri: "/v1/calls/\(callID)", method: .delete, headers: harness.authorization) { response in
                    #expect(response.status == .accepted)
                    let call = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                    #expect(call?["hangup_requested"] as? Bool == true)
                }
                let hangups = server.receivedActions.flatMap { $0 }.filter { $0["Action"] == "Hangup" }
                #expect(hangups.map { $0["Channel"] } == ["SIP/1001-00000001"])

                try await harness.ended(callID)
                let call = try await harness.get(client, callID).1
                #expect(call["status"] as? String == "failed")
                #expect(call["reason"] as? String == "agent_no_answer")
                let again = try await client.execute(uri: "/v1/calls/\(callID)", method: .delete, headers: harness.authorization) { $0.status }
                #expect(again == .conflict)
                #expect(try await harness.get(client, "no-such-call").0 == .notFound)
            }
        }
    }
}
