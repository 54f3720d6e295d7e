@testable import AMIBridge
import AMITestSupport
import Foundation
import Testing
import ViciDialTestSupport

/// `amibridge simulate` with the private MariaDB feeding the real daemon: the generated calls and
/// the rows the simulator writes join into webhooks the way a ViciDial box's would.
@Suite("amibridge simulate end to end")
struct SimulatorEndToEndTests {
    /// `amibridge simulate` writing rows as MariaDB's root, with names and leads no other test uses.
    static func simulator(extraArguments: [String] = []) throws -> (process: ProcessUnderTest, campaign: String, prefix: String) {
        let campaign = "E" + String(Int.random(in: 1_000_000...9_999_999))
        let prefix = "e" + String(Int.random(in: 100_000...999_999))
        let process = try ProcessUnderTest([
            "simulate", "--port", "0", "--agents", "3", "--rate", "1", "--mix", "answered=1", "--talk", "1-2", "--dispo-delay", "1-2",
            "--never-dispose-percent", "0", "--campaign", campaign, "--agent-prefix", prefix,
            "--first-lead-id", String(Int.random(in: 2_000_000_000...3_000_000_000)), "--seed", "5", "--progress-interval", "1",
        ] + extraArguments, environment: [
            "SIMULATE_DB_SOCKET": try TestDatabase.variable("AMIBRIDGE_DB_SOCKET"),
            "SIMULATE_DB_USER": try TestDatabase.variable("AMIBRIDGE_DB_ROOT_USER"),
            "SIMULATE_DB_PASSWORD": ProcessInfo.processInfo.environment["AMIBRIDGE_DB_ROOT_PASSWORD"] ?? "",
            "SIMULATE_DB_NAME": try TestDatabase.variable("AMIBRIDGE_DB_NAME"),
        ])
        return (process, campaign, prefix)
    }

    /// The port in `amibridge simulate: AMI on 127.0.0.1:PORT ...`.
    static func amiPort(_ simulator: ProcessUnderTest) async throws -> Int {
        let line = try await simulator.line(containing: "AMI on 127.0.0.1:").line
        let range = try #require(line.range(of: "127.0.0.1:"))
        return try #require(Int(line[range.upperBound...].prefix { $0.isNumber }))
    }

    /// `amibridge run` on the example configuration, against the simulator and the private
    /// MariaDB (the bridge's read-only user), polling rows and dispositions every second.
    static func daemon(amiPort: Int, auth: String, state: String, hooksPort: Int, secret: String) throws -> ProcessUnderTest {
        try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: [
            "AMI_PORT": String(amiPort), "AMI_USERNAME": "bridge", "AMI_SECRET": "s3cret-AMI", "AMI_AUTH": auth,
            "VICIDIAL_DB_SOCKET": try TestDatabase.variable("AMIBRIDGE_DB_SOCKET"),
            "VICIDIAL_DB_USER": try TestDatabase.variable("AMIBRIDGE_DB_USER"),
            "VICIDIAL_DB_PASSWORD": try TestDatabase.variable("AMIBRIDGE_DB_PASSWORD"),
            "VICIDIAL_DB_NAME": try TestDatabase.variable("AMIBRIDGE_DB_NAME"),
            "VICIDIAL_ROW_POLL_SECONDS": "1", "VICIDIAL_ROW_WAIT_SECONDS": "30", "VICIDIAL_DISPO_POLL_SECONDS": "1",
            "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0", "WEBHOOKS_ENDPOINTS": "crm",
            "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(hooksPort)/hooks", "WEBHOOKS_CRM_SECRET": secret,
            "WEBHOOKS_CRM_BACKOFF_INITIAL_MS": "50",
        ])
    }

    /// The JSON body of a `receive --json` line.
    static func body(_ line: String) throws -> [String: Any] {
        let json = try #require(line.firstIndex(of: "{").map { String(line[$0...]) })
        return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test("generated calls with ViciDial rows: call_complete carries agent, lead and campaign; disposition_set follows")
    func generatedTrafficJoinsRows() async throws {
        let (simulator, campaign, prefix) = try Self.simulator()
        defer { Task { await simulator.stop() } }
        let port = try await Self.amiPort(simulator)
        let secret = "sim-e2e-\(UUID())"
        let (receiver, hooksPort) = try await ProcessUnderTest.receiver(secret: secret)
        defer { Task { await receiver.stop() } }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("amibridge-sim-e2e-\(UUID())").path
        let daemon = try Self.daemon(amiPort: port, auth: "md5", state: state, hooksPort: hooksPort, secret: secret)
        defer { Task { await daemon.stop() } }

        try await withDeadline(.seconds(120)) {
            // A call the daemon followed from its start, joined with its row.
            var index = -1
            var complete: [String: Any] = [:]
            while true {
                let found = try await receiver.line(containing: "POST call_complete", after: index)
                index = found.index
                let body = try Self.body(found.line)
                #expect(found.line.hasPrefix("signature ok"))
                guard body["campaign_id"] as? String == campaign, body["reconstructed"] as? Bool == false else { continue }
                complete = body
                break
            }
            let agent = try #require(complete["agent_user"] as? String)
            #expect(agent.hasPrefix(prefix))
            let leadID = try #require(complete["lead_id"] as? Int)
            #expect(leadID >= 2_000_000_000)
            #expect(complete["list_id"] as? Int == 9999)
            #expect((complete["phone_number"] as? String)?.hasPrefix("1800") == true)
            #expect(complete["term_reason"] as? String == "CALLER")
            #expect(complete["hangup_cause"] as? Int == 16)
            let linkedid = try #require(complete["linkedid"] as? String)

            // Seconds later the agent's disposition arrives for the same call.
            index = -1
            while true {
                let found = try await receiver.line(containing: "POST disposition_set", after: index)
                index = found.index
                let body = try Self.body(found.line)
                guard body["linkedid"] as? String == linkedid else { continue }
                #expect(body["lead_id"] as? Int == leadID)
                #expect(body["agent_user"] as? String == agent)
                let disposition = try #require(body["disposition"] as? String)
                #expect(["SALE", "NI", "CALLBK", "A", "DNC"].contains(disposition))
                break
            }
        }
        // The simulator prints readable progress with the rows it wrote, never walls of JSON.
        let progress = try await simulator.line(containing: "rows:").line
        #expect(progress.hasPrefix("amibridge simulate: "))
        #expect(!progress.contains("{"))
    }

    @Test("click-to-call against the simulator: POST /v1/calls rings the agent's simulated phone; call_complete carries the call id, agent and lead; disposition_set follows")
    func clickToCall() async throws {
        let fixture = try Self.simulator(extraArguments: ["--rate", "0", "--agents", "2", "--first-extension", String(Int.random(in: 20_000...90_000))])
        let simulator = fixture.process
        defer { Task { await simulator.stop() } }
        let port = try await Self.amiPort(simulator)
        // The agents are logged in (their vicidial_users, phones and live rows written).
        var index = -1
        while true {
            let found = try await simulator.line(containing: "written", after: index)
            index = found.index
            if !found.line.contains("rows: 0 written") { break }
        }
        let secret = "sim-c2c-\(UUID())"
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("amibridge-sim-c2c-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let key = try APIKeyStore(stateDirectory: state).create(name: "crm")
        let (receiver, hooksPort) = try await ProcessUnderTest.receiver(secret: secret)
        defer { Task { await receiver.stop() } }
        let daemon = try Self.daemon(amiPort: port, auth: "plain", state: state, hooksPort: hooksPort, secret: secret)
        defer { Task { await daemon.stop() } }
        let apiPort = try await daemon.apiPort()
        try await daemon.line(containing: "AMI logged in")
        let api = APIClient(base: "http://127.0.0.1:\(apiPort)", key: key.text)
        let phone = TestDatabase.uniquePhoneNumber()
        let leadID = try await ViciDialTestDriver().insertLead(phone: phone)
        let agent = fixture.prefix + "001"

        try await withDeadline(.seconds(90)) {
            let placed = try await api.send("POST", "/v1/calls", #"{"agent_user":"\#(agent)","phone_number":"\#(phone)","lead_id":\#(leadID)}"#)
            #expect(placed.status == 202, "\(placed.json)")
            let callID = try #require(placed.json["call_id"] as? String)
            let complete = try await receiver.line(containing: "POST call_complete")
            let body = try Self.body(complete.line)
            #expect(body["click2call_id"] as? String == callID)
            #expect(body["agent_user"] as? String == agent)
            #expect(body["lead_id"] as? Int == Int(leadID))
            #expect(body["phone_number"] as? String == phone)
            let status = try await api.finalStatus(callID)
            #expect(status["status"] as? String == "completed", "\(status)")
            let disposition = try await receiver.line(containing: "POST disposition_set")
            #expect(try Self.body(disposition.line)["lead_id"] as? Int == Int(leadID))
        }
    }

    @Test("--calls: the run places that many calls, says so in readable lines, and exits 0 by itself")
    func limitedRun() async throws {
        let run = try await ProcessUnderTest.run(
            ["simulate", "--port", "0", "--agents", "3", "--rate", "20", "--calls", "3", "--mix", "answered=3,customer_busy=1", "--talk", "0-0.2", "--dispo-delay", "0-0.2", "--seed", "9",
             "--progress-interval", "60"],
            environment: [:]
        )
        #expect(run.status == 0)
        #expect(run.lines.first?.contains("AMI on 127.0.0.1:") == true)
        #expect(run.lines.first?.contains("no database") == true)
        let last = try #require(run.lines.last)
        #expect(last.contains("3 calls placed"))
        #expect(last.hasSuffix("(done)"))
        #expect(run.lines.allSatisfy { $0.hasPrefix("amibridge simulate: ") && !$0.contains("{") })
    }

    @Test("a bad --mix is a one-line error naming the flag and the outcomes")
    func badMix() async throws {
        let run = try await ProcessUnderTest.run(["simulate", "--port", "0", "--mix", "answered=60,hung=5"], environment: [:])
        #expect(run.status != 0)
        let message = run.errors.joined(separator: "\n")
        #expect(message.contains("--mix: 'hung=5'"))
        #expect(message.contains("customer_no_answer"))
    }
}
