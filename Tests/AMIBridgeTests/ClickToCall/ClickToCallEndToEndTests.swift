@testable import AMIBridge
import AMITestSupport
import CRMSink
import Foundation
import Testing

/// Click-to-call through the built daemon, as a CRM uses it: a real HTTP request with a key made
/// in the state directory, a fake Asterisk answering each Originate from its recording, and
/// `amibridge receive` checking the signature of every webhook.
@Suite("Click-to-call end to end")
struct ClickToCallEndToEndTests {
    @Test("every recorded outcome: 202, its final status and reason, and signed webhooks carrying the call id")
    func everyOutcome() async throws {
        let cases = ClickToCallOutcomeTests.cases
        let captures = try cases.map { try AMICapture.load("asterisk-20", $0.capture) }
        let secret = "e2e-\(UUID())"
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("amibridge-c2c-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let key = try APIKeyStore(stateDirectory: state).create(name: "crm")

        try await FakeAMIServer.withServer(behavior: FakeAMIServer.answeringOriginates(from: captures)) { server in
            let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: secret)
            defer { receiver.process.terminate() }
            let deliveries = receiver.output

            let daemon = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: [
                "AMI_PORT": String(server.port), "AMI_USERNAME": "bridge", "AMI_SECRET": "s3cret-AMI", "AMI_AUTH": "plain",
                "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0", "CLICK_TO_CALL_CONTEXT": "customers",
                "WEBHOOKS_ENDPOINTS": "crm", "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiverPort)/hooks", "WEBHOOKS_CRM_SECRET": secret,
            ])
            defer { daemon.process.terminate() }
            let apiPort = try await daemon.apiPort()
            try await daemon.line(containing: "AMI logged in")
            let api = APIClient(base: "http://127.0.0.1:\(apiPort)", key: key.text)

            // One call after another, as the recordings were made.
            for (expected, capture) in zip(cases, captures) {
                let originate = try ClickToCallOutcomeTests.recordedOriginate(capture)
                let request = #"{"agent_phone":"\#(originate["Channel"]!)","phone_number":"\#(originate["Exten"]!)"}"#
                let placed = try api.send("POST", "/v1/calls", request)
                #expect(placed.status == 202, "\(expected.capture)")
                let callID = try #require(placed.json["call_id"] as? String)
                let webhook = try #require(try await deliveries.first { $0.contains("POST \(expected.webhook.rawValue)") && $0.contains(callID) }).line
                #expect(webhook.hasPrefix("signature ok"), "\(expected.capture)")
                if let reason = expected.reason { #expect(webhook.contains(#""reason":"\#(reason)""#), "\(expected.capture)") }
                let status = try api.send("GET", "/v1/calls/\(callID)")
                #expect(status.json["status"] as? String == expected.status, "\(expected.capture)")
                #expect(status.json["reason"] as? String == expected.reason, "\(expected.capture)")
                let answered = deliveries.lines.filter { $0.contains("POST call_answered") && $0.contains(callID) }.count
                #expect(answered == (expected.status == "completed" ? 1 : 0), "\(expected.capture)")
            }

            // A bad request through the real server: 400, and Asterisk saw one Originate per call.
            let bad = try api.send("POST", "/v1/calls", #"{"agent_phone":"Local/1001@agents","phone_number":"1800555\r\n1234"}"#)
            #expect(bad.status == 400)
            await daemon.stop()
            #expect(daemon.process.terminationStatus == 0)
            let originates = server.receivedActions.flatMap { $0 }.filter { $0["Action"] == "Originate" }
            #expect(originates.count == cases.count)
        }
    }
}

/// A CRM's HTTP calls to the daemon's API, through libcurl.
struct APIClient {
    var base: String
    var key: String

    func send(_ method: String, _ path: String, _ body: String = "", headers: [(String, String)] = []) throws -> (status: Int, json: [String: Any], response: CurlHTTPResponse) {
        let client = try CurlHTTPClient()
        let response = try client.perform(CurlHTTPRequest(
            method: method, url: base + path,
            headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")] + headers,
            body: Array(body.utf8)
        ))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, json, response)
    }
}
