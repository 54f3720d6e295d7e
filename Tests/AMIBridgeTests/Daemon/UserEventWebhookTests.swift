@testable import AMIBridge
import AMIProtocol
import AMITestSupport
import CRMSink
@testable import EventMapper
import Foundation
import NIOCore
import Testing
import ViciDial

/// A dialplan `UserEvent(CRMEvent,...)` as the CRM receives it: the channel's uniqueid and
/// linkedid in the standard keys, every dialplan header under `variables`, none dropped.
@Suite("UserEvent webhooks")
struct UserEventWebhookTests {
    /// The recorded `UserEvent(CRMEvent,event: lead_note,lead_id: 42,note: hello)` through the tracker.
    static func recordedUserEvent() throws -> CallUpdate {
        var decoder = AMIFrameDecoder()
        var buffer = ByteBuffer(bytes: try AMICapture.load("asterisk-20", "command-and-misc").receivedBytes)
        var tracker = CallTracker(configuration: .init(server: "dialer1"))
        while let frame = try decoder.decode(buffer: &buffer) {
            guard case .message(let message) = frame else { continue }
            for update in tracker.receive(message, at: 1_795_615_943) {
                if case .userEvent = update { return update }
            }
        }
        throw CaptureError("no UserEvent in command-and-misc")
    }

    @Test("standard keys from the channel; every dialplan header under variables, even one named like a standard key")
    func body() throws {
        guard case .userEvent(let server, let name, let linkedid, let callID, let fields, let sequence) = try Self.recordedUserEvent() else {
            Issue.record("not a user event")
            return
        }
        let event = WebhookEvent.userEvent(server: server, name: name, linkedid: linkedid, callID: callID, fields: fields, sequence: sequence)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(event.jsonBody())) as? [String: Any])
        #expect(json["event"] as? String == "user_event", "the dialplan's `event: lead_note` does not replace the event name")
        #expect(json["uniqueid"] as? String == "1795615943.29")
        #expect(json["linkedid"] as? String == "1795615943.28")
        #expect(json["user_event"] as? String == "CRMEvent")
        let variables = try #require(json["variables"] as? [String: String])
        #expect(variables == ["event": "lead_note", "lead_id": "42", "note": "hello"])
        // Other events have no variables object.
        let complete = WebhookEvent.callComplete(EnrichedCall(call: CallRecord(server: "d", linkedid: "1.1", legs: [], startedAt: 1), vicidial: nil))
        let other = try #require(try JSONSerialization.jsonObject(with: Data(complete.jsonBody())) as? [String: Any])
        #expect(other["variables"] == nil)
    }

    @Test("variables with quotes, backslashes and control characters stay valid JSON, sorted by name")
    func escaping() throws {
        let event = WebhookEvent.userEvent(server: "d", name: "CRMEvent", linkedid: "1.1", callID: nil,
                                           fields: ["Uniqueid": "1.2", "zeta": "a\"b\\c", "alpha": "line\nnext\u{1}"], sequence: 1)
        let text = String(decoding: event.jsonBody(), as: UTF8.self)
        #expect(text.contains(#""variables":{"alpha":"line\nnext\u0001","zeta":"a\"b\\c"}"#), "\(text)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect((json["variables"] as? [String: String])?["zeta"] == "a\"b\\c")
    }
}
