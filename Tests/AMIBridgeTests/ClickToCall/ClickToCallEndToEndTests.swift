@testable import AMIBridge
import AMITestSupport
import CRMSink
import Foundation
import Testing
import ViciDial
import ViciDialTestSupport

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
        let agent = try await Self.agentOnSIP1001(try ViciDialTestDriver())
        let database = [
            "VICIDIAL_DB_SOCKET": try TestDatabase.variable("AMIBRIDGE_DB_SOCKET"), "VICIDIAL_DB_USER": try TestDatabase.variable("AMIBRIDGE_DB_USER"),
            "VICIDIAL_DB_PASSWORD": try TestDatabase.variable("AMIBRIDGE_DB_PASSWORD"), "VICIDIAL_DB_NAME": try TestDatabase.variable("AMIBRIDGE_DB_NAME"),
            // No vicidial_log rows come for these calls: do not wait for them.
            "VICIDIAL_ROW_WAIT_SECONDS": "0", "VICIDIAL_DISPO_WAIT_SECONDS": "0",
        ]

        try await FakeAMIServer.withServer(behavior: FakeAMIServer.answeringOriginates(from: captures)) { server in
            let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: secret)
            defer { receiver.process.terminate() }
            let deliveries = receiver.output

            let daemon = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: [
                "AMI_PORT": String(server.port), "AMI_USERNAME": "bridge", "AMI_SECRET": "s3cret-AMI", "AMI_AUTH": "plain",
                "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0", "CLICK_TO_CALL_CONTEXT": "customers",
                "WEBHOOKS_ENDPOINTS": "crm", "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiverPort)/hooks", "WEBHOOKS_CRM_SECRET": secret,
            ].merging(database) { first, _ in first })
            defer { daemon.process.terminate() }
            let apiPort = try await daemon.apiPort()
            try await daemon.line(containing: "AMI logged in")
            let api = APIClient(base: "http://127.0.0.1:\(apiPort)", key: key.text)

            // By agent user: the daemon finds SIP/1001 through vicidial_users → phones.
            let byUser = try await api.send("POST", "/v1/calls", #"{"agent_user":"\#(agent)","phone_number":"18005551234"}"#)
            #expect(byUser.status == 202)
            #expect(byUser.json["agent_channel"] as? String == "SIP/1001")
            let byUserID = try #require(byUser.json["call_id"] as? String)
            _ = try #require(try await deliveries.first { $0.contains("POST call_complete") && $0.contains(byUserID) })
            let byUserStatus = try await api.finalStatus(byUserID)
            #expect(byUserStatus["status"] as? String == "completed", "\(byUserStatus)")
            let unknown = try await api.send("POST", "/v1/calls", #"{"agent_user":"nobody\#(agent.suffix(6))","phone_number":"18005551234"}"#)
            #expect(unknown.status == 404)

            // One call after another, as the recordings were made.
            for (expected, capture) in zip(cases, captures) {
                let originate = try ClickToCallOutcomeTests.recordedOriginate(capture)
                let request = #"{"agent_phone":"\#(originate["Channel"]!)","phone_number":"\#(originate["Exten"]!)"}"#
                let placed = try await api.send("POST", "/v1/calls", request)
                #expect(placed.status == 202, "\(expected.capture)")
                let callID = try #require(placed.json["call_id"] as? String)
                let found: (index: Int, line: String)?
                do {
                    found = try await deliveries.first(within: .seconds(60)) { $0.contains("POST \(expected.webhook.rawValue)") && $0.contains(callID) }
                } catch {
                    Issue.record("\(expected.capture): no \(expected.webhook.rawValue) for \(callID). Receiver:\n\(deliveries.lines.joined(separator: "\n"))\nDaemon:\n\(daemon.output.lines.suffix(40).joined(separator: "\n"))")
                    throw error
                }
                let webhook = try #require(found).line
                #expect(webhook.hasPrefix("signature ok"), "\(expected.capture)")
                if let reason = expected.reason { #expect(webhook.contains(#""reason":"\#(reason)""#), "\(expected.capture)") }
                let status = try await api.finalStatus(callID)
                #expect(status["status"] as? String == expected.status, "\(expected.capture): \(status)")
                #expect(status["reason"] as? String == expected.reason, "\(expected.capture)")
                let answered = deliveries.lines.filter { $0.contains("POST call_answered") && $0.contains(callID) }.count
                #expect(answered == (expected.status == "completed" ? 1 : 0), "\(expected.capture)")
            }

            // A bad request through the real server: 400, and Asterisk saw one Originate per call.
            let bad = try await api.send("POST", "/v1/calls", #"{"agent_phone":"Local/1001@agents","phone_number":"1800555\r\n1234"}"#)
            #expect(bad.status == 400)
            await daemon.stop()
            #expect(daemon.process.terminationStatus == 0)
            #expect(ClickToCallRequestTests.originates(server).count == cases.count + 1)
        }
    }
}

extension ClickToCallEndToEndTests {
    /// A new ViciDial user whose phone is SIP/1001 in ViciDial's tables: the SIP recordings' agent leg.
    static func agentOnSIP1001(_ driver: ViciDialTestDriver) async throws -> String {
        let agent = ViciDialTestDriver.user()
        let phoneLogin = "p" + String(agent.dropFirst())
        try await driver.insertUser(agent, phoneLogin: phoneLogin)
        // (extension, server_ip) is unique in `phones`: a server address of this test's own.
        try await driver.insertPhone(login: phoneLogin, extension: "1001", serverIP: "10.\(Int.random(in: 1...254)).\(Int.random(in: 1...254)).\(Int.random(in: 1...254))")
        return agent
    }
}

/// A CRM's HTTP calls to the daemon's API, through libcurl.
///
/// libcurl blocks, so each request runs on a thread of its own, never on Swift's cooperative
/// pool: the fake Asterisk that the daemon is waiting on runs there, and with 2 cores a blocked
/// pool thread can stall it (and so the request) while other tests run.
struct APIClient: Sendable {
    var base: String
    var key: String

    struct Answer: @unchecked Sendable {
        var status: Int
        /// The top-level JSON object; empty when the body is not one.
        var json: [String: Any]
    }

    /// `GET /v1/calls/{id}` once the call is completed or failed. The webhook that a test waits
    /// for is emitted after the status is final, so this normally answers at once; the bounded
    /// re-asking only guards against reading it a moment early. The last answer when it never is.
    func finalStatus(_ callID: String) async throws -> [String: Any] {
        var answer = try await send("GET", "/v1/calls/\(callID)")
        let deadline = ContinuousClock.now + .seconds(30)
        while !["completed", "failed"].contains(answer.json["status"] as? String ?? ""), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            answer = try await send("GET", "/v1/calls/\(callID)")
        }
        return answer.json.merging(["http_status": answer.status]) { first, _ in first }
    }

    func send(_ method: String, _ path: String, _ body: String = "") async throws -> Answer {
        let request = CurlHTTPRequest(
            method: method, url: base + path,
            headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
            body: Array(body.utf8)
        )
        let response = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<CurlHTTPResponse, any Error>) in
            Thread { continuation.resume(with: Result { try CurlHTTPClient().perform(request) }) }.start()
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return Answer(status: response.status, json: json)
    }
}
