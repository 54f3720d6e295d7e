@testable import AMIBridge
import AMITestSupport
import CRMSink
@testable import EventMapper
import Foundation
import Testing
import ViciDial

/// Calls that change shape reach the CRM as the tracker sees them: one `call_complete` per
/// Linkedid, with `transferred`, `transfer_target` and `continued_in` in the body.
@Suite("Transfers and pickups in webhooks")
struct CallShapeWebhookTests {
    @Test("the body carries the transfer; a call without one says transferred false and nulls")
    func body() throws {
        var call = CallRecord(server: "dialer1", linkedid: "1.1", legs: [], startedAt: 1_700_000_000)
        call.transfer = CallTransfer(target: "1006", continuedIn: "0.9")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(WebhookEvent.callComplete(EnrichedCall(call: call, vicidial: nil)).jsonBody())) as? [String: Any])
        #expect(json["transferred"] as? Bool == true)
        #expect(json["transfer_target"] as? String == "1006")
        #expect(json["continued_in"] as? String == "0.9")
        call.transfer = nil
        let plain = try #require(try JSONSerialization.jsonObject(with: Data(WebhookEvent.callComplete(EnrichedCall(call: call, vicidial: nil)).jsonBody())) as? [String: Any])
        #expect(plain["transferred"] as? Bool == false)
        #expect(plain["transfer_target"] is NSNull && plain["continued_in"] is NSNull)
    }

    /// Runs the daemon on a recorded session and returns the `call_complete` bodies it delivered,
    /// once `expected` of them have arrived.
    static func callCompletes(replaying capture: String, expected: Int) async throws -> [[String: Any]] {
        let secret = "shape-\(UUID())"
        let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: secret)
        defer { receiver.process.terminate() }
        let state = NSTemporaryDirectory() + "amibridge-shape-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: state) }
        let ami = try GatedReplay(capture)
        let lines = try await FakeAMIServer.withServer(behavior: ami.behavior) { server in
            let daemon = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: GatedReplay.amiEnvironment(port: server.port).merging([
                "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0", "WEBHOOKS_ENDPOINTS": "crm",
                "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiverPort)/hooks", "WEBHOOKS_CRM_SECRET": secret,
            ]) { _, new in new })
            defer { daemon.process.terminate() }
            return try await withDeadline(.seconds(90)) {
                _ = try await daemon.apiPort()
                ami.gate.open()
                var index = -1
                for _ in 0..<expected {
                    index = try await receiver.line(containing: "POST call_complete", after: index).index
                }
                // Nothing more: the daemon stops (storing and sending what it holds) and no other one came.
                await daemon.stop()
                await receiver.stop()
                return receiver.output.lines.filter { $0.contains("POST call_complete") }
            }
        }
        #expect(lines.count == expected, "\(lines.count) call_complete, \(expected) expected")
        return try lines.map { line in
            let json = String(line[try #require(line.firstIndex(of: "{"))...])
            return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        }
    }

    @Test("a pickup: the picked-up call answered, the picker's call continued in it, each once")
    func pickup() async throws {
        let bodies = try await Self.callCompletes(replaying: "pickup-by-phone", expected: 2)
        let byLinkedid = Dictionary(uniqueKeysWithValues: bodies.map { ($0["linkedid"] as? String ?? "?", $0) })
        let ringing = try #require(byLinkedid["1795968325.56"])
        let picker = try #require(byLinkedid["1795968327.59"])
        #expect(ringing["outcome"] as? String == "answered")
        #expect(ringing["transferred"] as? Bool == true)
        #expect(picker["continued_in"] as? String == "1795968325.56")
        #expect(picker["transferred"] as? Bool == true)
    }

    @Test("a blind transfer: one call_complete, transferred to the extension")
    func blindTransfer() async throws {
        let bodies = try await Self.callCompletes(replaying: "transfer-blind", expected: 1)
        #expect(bodies.first?["transferred"] as? Bool == true)
        #expect(bodies.first?["transfer_target"] as? String == "1006")
        #expect(bodies.first?["outcome"] as? String == "answered")
    }
}
