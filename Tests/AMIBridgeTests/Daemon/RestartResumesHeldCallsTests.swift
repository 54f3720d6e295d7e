import AMITestSupport
import CRMSink
import Foundation
import NIOCore
import Testing
import ViciDialTestSupport

/// A restart (SIGTERM, or SIGKILL: no chance to save anything) while 100 calls wait for their
/// ViciDial row and 100 for their agent's disposition: the rows and dispositions are written
/// while the bridge is down, and after the restart every call gets its `call_complete` and its
/// `disposition_set`, each event exactly once by `event_id`.
@Suite("Restart resumes held calls")
struct RestartResumesHeldCallsTests {
    static let callsPerWait = 100

    @Test("every held call completes once after SIGTERM or SIGKILL", arguments: [SIGTERM, SIGKILL])
    func heldCallsSurviveARestart(signal: Int32) async throws {
        let driver = try ViciDialTestDriver()
        let campaign = ViciDialTestDriver.campaign()
        let agent = ViciDialTestDriver.user()
        let source = try CallStormSource(epoch: ViciDialTestDriver.epoch())
        let firstCall = Int.random(in: 0..<(CallStormSource.maximumCalls - 2 * Self.callsPerWait))
        let calls = Array(firstCall..<firstCall + 2 * Self.callsPerWait)
        // The first hundred have no row until after the restart; the second hundred are joined
        // before it (their row is there, hung up) and wait for the agent's disposition.
        let waitingForRow = Array(calls.prefix(Self.callsPerWait))
        let waitingForDisposition = Array(calls.suffix(Self.callsPerWait))
        var leadOfCall: [Int: Int64] = [:]
        for call in calls { leadOfCall[call] = try await driver.insertLead() }
        let leads = leadOfCall
        for call in waitingForDisposition {
            try await Self.writeRow(driver, call: call, source: source, lead: leads[call]!, campaign: campaign, agent: agent)
        }

        var stream = ByteBuffer()
        for call in calls {
            for segment in 0..<source.segmentCount { source.write(segment: segment, ofCall: call, into: &stream) }
        }
        let traffic = Array(stream.readableBytesView)
        // The calls come in the first session only: after the restart Asterisk is quiet.
        let behavior: FakeAMIServer.Behavior = { session in
            let first = session.index == 0
            try await FakeAMIServer.asterisk { session in if first { try await session.write(traffic) } }(&session)
        }

        let secret = "restart-\(UUID())"
        let state = NSTemporaryDirectory() + "amibridge-restart-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: secret)
        defer { receiver.process.terminate() }

        try await FakeAMIServer.withServer(behavior: behavior) { server in
            let environment = try Self.environment(amiPort: server.port, state: state, receiverPort: receiverPort, secret: secret)
            let first = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: environment)
            defer { first.process.terminate() }
            let apiPort = try await first.apiPort()
            // Both waits full: every call tracked, half joined and watched, half waiting for a row.
            try await withDeadline(.seconds(120)) {
                while true {
                    let metrics = try await Self.scrape(port: apiPort)
                    if DaemonMetricsTests.value(#"amibridge_calls_held{waiting_for="vicidial_row"}"#, in: metrics) == Double(Self.callsPerWait),
                       DaemonMetricsTests.value(#"amibridge_calls_held{waiting_for="disposition"}"#, in: metrics) == Double(Self.callsPerWait) {
                        return
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            first.signal(signal)
            await ChildProcess.waitForExit(first.process)
            if signal == SIGTERM {
                #expect(first.process.terminationStatus == 0, "\(first.errors.lines.suffix(20).joined(separator: "\n"))\n\(first.output.lines.suffix(10).joined(separator: "\n"))")
            }

            // While the bridge is down, ViciDial writes the missing rows and every agent disposes.
            for call in waitingForRow {
                try await Self.writeRow(driver, call: call, source: source, lead: leads[call]!, campaign: campaign, agent: agent)
            }
            for call in calls { try await driver.dispose(leadID: leads[call]!, user: agent, status: "SALE") }

            let second = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: environment)
            defer { second.process.terminate() }
            let expected = Set(calls.map { source.linkedid(ofCall: $0) })
            let received = try await Self.collect(from: receiver, until: expected)
            await second.stop()

            for event in ["call_complete", "disposition_set", "call_answered", "user_event"] {
                let ids = received.filter { $0.event == event }
                // Exactly one event id per call (a delivery repeated after SIGKILL repeats its id).
                #expect(Set(ids.map(\.eventID)).count == calls.count, "\(event): \(Set(ids.map(\.eventID)).count) distinct ids for \(calls.count) calls")
                #expect(Set(ids.map(\.linkedid)) == expected, "\(event) missing for \(expected.subtracting(ids.map(\.linkedid)).sorted())")
            }
            let completes = received.filter { $0.event == "call_complete" }
            #expect(completes.allSatisfy { $0.agentUser == agent && $0.campaignID == campaign }, "every call_complete is joined with its row")
            #expect(received.filter { $0.event == "disposition_set" }.allSatisfy { $0.disposition == "SALE" })
        }
    }

    /// The row ViciDial writes for a call: answered by `agent`, then hung up (status DISPO).
    static func writeRow(_ driver: ViciDialTestDriver, call: Int, source: CallStormSource, lead: Int64, campaign: String, agent: String) async throws {
        let uniqueid = source.linkedid(ofCall: call)
        let epoch = source.epoch
        try await driver.answerOutbound(uniqueid: uniqueid, leadID: lead, campaign: campaign, user: agent, status: "INCALL", at: epoch)
        try await driver.hangUpOutbound(uniqueid: uniqueid, at: epoch + 5)
    }

    static func environment(amiPort: Int, state: String, receiverPort: Int, secret: String) throws -> [String: String] {
        [
            "AMI_PORT": String(amiPort), "AMI_USERNAME": "bridge", "AMI_SECRET": "s3cret-AMI", "AMI_AUTH": "plain",
            "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0",
            "WEBHOOKS_ENDPOINTS": "crm", "WEBHOOKS_CRM_SECRET": secret, "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiverPort)/hooks",
            "VICIDIAL_DB_SOCKET": try TestDatabase.variable("AMIBRIDGE_DB_SOCKET"),
            "VICIDIAL_DB_USER": try TestDatabase.variable("AMIBRIDGE_DB_USER"),
            "VICIDIAL_DB_PASSWORD": try TestDatabase.variable("AMIBRIDGE_DB_PASSWORD"),
            "VICIDIAL_DB_NAME": try TestDatabase.variable("AMIBRIDGE_DB_NAME"),
            // Long waits: only the restart ends them.
            "VICIDIAL_ROW_POLL_SECONDS": "1", "VICIDIAL_ROW_WAIT_SECONDS": "600",
            "VICIDIAL_DISPO_POLL_SECONDS": "1", "VICIDIAL_DISPO_WAIT_SECONDS": "600",
        ]
    }

    /// `/metrics` on its own thread: a blocking libcurl call must not hold a thread of Swift's pool.
    static func scrape(port: Int) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try DaemonMetricsTests.scrape(port: port) }) }
        }
    }

    struct Received: Hashable {
        var event: String
        var eventID: String
        var linkedid: String
        var agentUser: String?
        var campaignID: String?
        var disposition: String?
    }

    /// Receiver lines until every expected call has its `disposition_set`.
    static func collect(from receiver: ProcessUnderTest, until linkedids: Set<String>) async throws -> [Received] {
        var received: [Received] = []
        var disposed = Set<String>()
        var index = -1
        while disposed != linkedids {
            let (next, line) = try await receiver.line(containing: "\"event\"", after: index)
            index = next
            guard let brace = line.firstIndex(of: "{"),
                  let body = try JSONSerialization.jsonObject(with: Data(line[brace...].utf8)) as? [String: Any],
                  let event = body["event"] as? String, let id = body["event_id"] as? String, let linkedid = body["linkedid"] as? String,
                  linkedids.contains(linkedid)
            else { continue }
            #expect(line.hasPrefix("signature ok"), "\(line)")
            received.append(Received(
                event: event, eventID: id, linkedid: linkedid, agentUser: body["agent_user"] as? String,
                campaignID: body["campaign_id"] as? String, disposition: body["disposition"] as? String
            ))
            if event == "disposition_set" { disposed.insert(linkedid) }
        }
        return received
    }
}
