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
    @Test("answered and agent-busy calls: 202, their final status, and signed webhooks carrying the call id")
    func placeAndFollow() async throws {
        let captures = try ["originate-answered", "originate-agent-busy"].map { try AMICapture.load("asterisk-20", $0) }
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

            // Answered: call_answered then call_complete, both with the call id; status completed.
            let answered = try api.send("POST", "/v1/calls", #"{"agent_phone":"Local/1001@agents","phone_number":"18005551234"}"#)
            #expect(answered.status == 202)
            let answeredID = try #require(answered.json["call_id"] as? String)
            let complete = try #require(try await deliveries.first { $0.contains("POST call_complete") && $0.contains(answeredID) }).line
            #expect(complete.hasPrefix("signature ok"))
            #expect(deliveries.lines.filter { $0.contains("POST call_answered") && $0.contains(answeredID) }.count == 1)
            let answeredStatus = try api.send("GET", "/v1/calls/\(answeredID)")
            #expect(answeredStatus.json["status"] as? String == "completed")
            #expect(answeredStatus.json["hangup_cause"] as? Int == 16)

            // Agent busy: click2call_failed with the reason; status failed.
            let busy = try api.send("POST", "/v1/calls", #"{"agent_phone":"Local/1002@agents","phone_number":"18005551234"}"#)
            #expect(busy.status == 202)
            let busyID = try #require(busy.json["call_id"] as? String)
            let failed = try #require(try await deliveries.first { $0.contains("POST click2call_failed") && $0.contains(busyID) }).line
            #expect(failed.hasPrefix("signature ok"))
            #expect(failed.contains(#""reason":"agent_busy""#))
            let busyStatus = try api.send("GET", "/v1/calls/\(busyID)")
            #expect(busyStatus.json["status"] as? String == "failed")
            #expect(busyStatus.json["reason"] as? String == "agent_busy")
            #expect(deliveries.lines.filter { $0.contains("POST call_answered") && $0.contains(busyID) }.count == 0)

            // A bad request through the real server: 400, and Asterisk saw two Originates in all.
            let bad = try api.send("POST", "/v1/calls", #"{"agent_phone":"Local/1001@agents","phone_number":"1800555\r\n1234"}"#)
            #expect(bad.status == 400)
            await daemon.stop()
            #expect(daemon.process.terminationStatus == 0)
            let originates = server.receivedActions.flatMap { $0 }.filter { $0["Action"] == "Originate" }
            #expect(originates.count == 2)
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
