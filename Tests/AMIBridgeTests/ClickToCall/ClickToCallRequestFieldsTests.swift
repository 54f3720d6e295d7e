@testable import AMIBridge
import AMITestSupport
import Foundation
import Testing
import ViciDialTestSupport

/// Every webhook of a click-to-call carries what its request said (agent_user, campaign_id,
/// lead_id, list_id, phone_number, click2call_id), with and without a ViciDial row, across a
/// restart while the call is held; a row's fields win; a call without a lead_id waits for no row.
/// The built daemon, a fake Asterisk answering each Originate from its recording, `amibridge
/// receive` checking signatures, the private MariaDB.
@Suite("Click-to-call webhooks carry the request's fields")
struct ClickToCallRequestFieldsTests {
    @Test("with and without a row, through /v1/calls and /agc/api.php, across a SIGKILL while held")
    func requestFieldsInEveryWebhook() async throws {
        let captures = try ["sip-originate-answered", "sip-originate-customer-busy", "sip-originate-customer-noanswer", "originate-answered"]
            .map { try AMICapture.load("asterisk-20", $0) }
        let exten = try captures.map { try #require(try ClickToCallOutcomeTests.recordedOriginate($0)["Exten"]) }
        let localAgent = try #require(try ClickToCallOutcomeTests.recordedOriginate(captures[3])["Channel"])
        let secret = "fields-\(UUID())"
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("amibridge-c2c-fields-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let key = try APIKeyStore(stateDirectory: state).create(name: "crm")

        let driver = try ViciDialTestDriver()
        let agent = try await ClickToCallEndToEndTests.agentOnSIP1001(driver)
        let (campaign, rowCampaign) = (ViciDialTestDriver.campaign(), ViciDialTestDriver.campaign())
        let rowAgent = ViciDialTestDriver.user()
        let (heldLead, joinedLead) = (try await driver.insertLead(), try await driver.insertLead())
        let list = Int.random(in: 1_000...9_999)

        try await FakeAMIServer.withServer(behavior: FakeAMIServer.answeringOriginates(from: captures)) { server in
            let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: secret)
            defer { receiver.process.terminate() }
            let environment = try RestartResumesHeldCallsTests.environment(amiPort: server.port, state: state, receiverPort: receiverPort, secret: secret)
                .merging([
                    "CLICK_TO_CALL_CONTEXT": "customers",
                    // Long enough to restart the bridge while held; a call with no lead_id must not wait at all.
                    "VICIDIAL_ROW_WAIT_SECONDS": "40",
                ]) { _, new in new }
            let first = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: environment)
            defer { first.process.terminate() }
            let apiPort = try await first.apiPort()
            try await first.line(containing: "AMI logged in")
            let api = APIClient(base: "http://127.0.0.1:\(apiPort)", key: key.text)
            let webhooks = Webhooks(receiver: receiver)

            // 1. /v1/calls without a lead_id: no row will come, so call_complete goes out at once
            //    (the row wait is 40 s) with the request's fields.
            let plain = try await api.send("POST", "/v1/calls", #"{"agent_user":"\#(agent)","phone_number":"\#(exten[0])","campaign_id":"\#(campaign)","list_id":\#(list)}"#)
            #expect(plain.status == 202)
            let plainID = try #require(plain.json["call_id"] as? String)
            let started = ContinuousClock.now
            let plainComplete = try await webhooks.first("call_complete", plainID)
            #expect(ContinuousClock.now - started < .seconds(30), "no row wait for a click-to-call without a lead_id")
            for event in [try await webhooks.first("call_answered", plainID), plainComplete] {
                Self.expectRequestFields(event, agent: agent, campaign: campaign, lead: nil, list: list, phone: exten[0], callID: plainID)
            }

            // 2. /agc/api.php (the tutorial's script), a customer who is busy: click2call_failed
            //    and call_complete carry the request.
            let query = "source=crm&user=apiuser&pass=\(key.text)&agent_user=\(agent)&function=click2call&phone_number=\(exten[1])&campaign_id=\(campaign)&list_id=\(list)&format=json"
            let compat = try await api.send("GET", "/agc/api.php?\(query)")
            let compatID = try #require(compat.json["call_id"] as? String, "\(compat.json)")
            for name in ["click2call_failed", "call_complete"] {
                Self.expectRequestFields(try await webhooks.first(name, compatID), agent: agent, campaign: campaign, lead: nil, list: list, phone: exten[1], callID: compatID)
            }

            // 3. With a lead_id: held for its row. One's row comes while the bridge is down, the other's never.
            let held = try await api.send("POST", "/v1/calls", #"{"agent_user":"\#(agent)","phone_number":"\#(exten[2])","campaign_id":"\#(campaign)","lead_id":\#(heldLead),"list_id":\#(list)}"#)
            let heldID = try #require(held.json["call_id"] as? String)
            let joined = try await api.send("POST", "/v1/calls", #"{"agent_phone":"\#(localAgent)","phone_number":"\#(exten[3])","campaign_id":"\#(campaign)","lead_id":\#(joinedLead),"list_id":\#(list)}"#)
            let joinedID = try #require(joined.json["call_id"] as? String)
            Self.expectRequestFields(try await webhooks.first("click2call_failed", heldID), agent: agent, campaign: campaign, lead: Int(heldLead), list: list, phone: exten[2], callID: heldID)
            let joinedAnswered = try await webhooks.first("call_answered", joinedID)
            Self.expectRequestFields(joinedAnswered, agent: nil, campaign: campaign, lead: Int(joinedLead), list: list, phone: exten[3], callID: joinedID)
            try await withDeadline(.seconds(60)) {
                while DaemonMetricsTests.value(#"amibridge_calls_held{waiting_for="vicidial_row"}"#, in: try await RestartResumesHeldCallsTests.scrape(port: apiPort)) != 2 {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(webhooks.received.filter { $0["event"] as? String == "call_complete" && [heldID, joinedID].contains($0["click2call_id"] as? String) }.isEmpty)
            first.signal(SIGKILL)
            await ChildProcess.waitForExit(first.process)

            // ViciDial logs the joined call under its own campaign and agent, and the agent disposes.
            let uniqueid = try #require(joinedAnswered["uniqueid"] as? String)
            _ = try await driver.root.execute("DELETE FROM vicidial_log WHERE uniqueid = ?", [.string(uniqueid)])
            try await driver.answerOutbound(uniqueid: uniqueid, leadID: joinedLead, campaign: rowCampaign, user: rowAgent, status: "INCALL", at: Int(Date().timeIntervalSince1970) - 30)
            try await driver.hangUpOutbound(uniqueid: uniqueid, at: Int(Date().timeIntervalSince1970))
            try await driver.dispose(leadID: joinedLead, user: rowAgent, status: "SALE")

            let second = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: environment)
            defer { second.process.terminate() }
            // The row wins for the fields it has (campaign, agent, list); the request's id stays.
            for name in ["call_complete", "disposition_set"] {
                let event = try await webhooks.first(name, joinedID)
                #expect(event["campaign_id"] as? String == rowCampaign, "\(name): \(event)")
                #expect(event["agent_user"] as? String == rowAgent, "\(name): \(event)")
                #expect(event["list_id"] as? Int == 101, "\(name): \(event)")
                #expect(event["lead_id"] as? Int == Int(joinedLead), "\(name): \(event)")
                #expect(event["click2call_id"] as? String == joinedID, "\(name): \(event)")
            }
            // No row ever: after its wait, call_complete still says what the request said, though
            // the bridge that took the request is gone.
            Self.expectRequestFields(try await webhooks.first("call_complete", heldID), agent: agent, campaign: campaign, lead: Int(heldLead), list: list, phone: exten[2], callID: heldID)
            await second.stop()
            _ = try await driver.root.execute("DELETE FROM vicidial_log WHERE uniqueid = ?", [.string(uniqueid)])
        }
    }

    static func expectRequestFields(_ event: [String: Any], agent: String?, campaign: String, lead: Int?, list: Int, phone: String, callID: String,
                                    sourceLocation: SourceLocation = #_sourceLocation) {
        let name = event["event"] as? String ?? "?"
        #expect(event["agent_user"] as? String == agent, "\(name): \(event)", sourceLocation: sourceLocation)
        #expect(event["campaign_id"] as? String == campaign, "\(name): \(event)", sourceLocation: sourceLocation)
        #expect(event["lead_id"] as? Int == lead, "\(name): \(event)", sourceLocation: sourceLocation)
        #expect(event["list_id"] as? Int == list, "\(name): \(event)", sourceLocation: sourceLocation)
        #expect(event["phone_number"] as? String == phone, "\(name): \(event)", sourceLocation: sourceLocation)
        #expect(event["click2call_id"] as? String == callID, "\(name): \(event)", sourceLocation: sourceLocation)
    }

    /// The JSON bodies `amibridge receive --json` printed, each checked for its signature.
    struct Webhooks {
        let receiver: ProcessUnderTest

        /// The first `name` webhook of click-to-call `callID`.
        func first(_ name: String, _ callID: String) async throws -> [String: Any] {
            let found = try await receiver.output.first(within: .seconds(90)) { $0.contains("POST \(name)") && $0.contains(callID) }
            let line = try #require(found, "no \(name) for \(callID); received:\n\(receiver.output.lines.joined(separator: "\n"))").line
            #expect(line.hasPrefix("signature ok"), "\(line)")
            return Self.body(line)
        }

        var received: [[String: Any]] { receiver.output.lines.map(Self.body) }

        static func body(_ line: String) -> [String: Any] {
            guard let brace = line.firstIndex(of: "{") else { return [:] }
            return (try? JSONSerialization.jsonObject(with: Data(line[brace...].utf8))) as? [String: Any] ?? [:]
        }
    }
}
