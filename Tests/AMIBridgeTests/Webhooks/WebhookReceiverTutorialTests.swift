@testable import AMIBridge
import AMITestSupport
import Foundation
import MariaDB
import NIOCore
import Testing
import ViciDialTestSupport

/// The tutorial's webhook receiver (Tests/Fixtures/tutorial/webhook_receiver.php: one row per
/// `uniqueid` in `webhook_events`, 400 without event/uniqueid/phone_number/agent_user), served by
/// `php -S` and storing through PDO into the private MariaDB, behind an endpoint with
/// `wait_for_disposition: true`: every call lands as exactly one row with its disposition and the
/// agent's notes (or none when the wait ends first), nothing is dead-lettered, and a plain
/// endpoint beside it still gets `call_complete` and `disposition_set` apart. The tutorial's own
/// `click2call.sh` (no lead_id, campaign SALES) lands as a row too, with the agent it asked for.
@Suite("The tutorial's webhook receiver with wait_for_disposition")
struct WebhookReceiverTutorialTests {
    static let calls = 4
    /// The last call is never disposed: its wait ends after `VICIDIAL_DISPO_WAIT_SECONDS`.
    static let disposed = 3

    @Test("one row per call with its disposition, zero dead letters; a plain endpoint gets both events")
    func oneRowPerCall() async throws {
        let driver = try ViciDialTestDriver()
        let campaign = ViciDialTestDriver.campaign()
        let agent = ViciDialTestDriver.user()
        let source = try CallStormSource(epoch: ViciDialTestDriver.epoch())
        let firstCall = Int.random(in: 0..<(CallStormSource.maximumCalls - Self.calls))
        let calls = Array(firstCall..<firstCall + Self.calls)
        let linkedids = calls.map { source.linkedid(ofCall: $0) }
        var leadOfCall: [Int64] = []
        for call in calls {
            let lead = try await driver.insertLead()
            leadOfCall.append(lead)
            // Answered by the agent and hung up before the bridge sees the call: status DISPO, not final.
            try await RestartResumesHeldCallsTests.writeRow(driver, call: call, source: source, lead: lead, campaign: campaign, agent: agent)
        }

        let leads = leadOfCall

        // The CRM's own database and user, as the tutorial sets them up.
        let crm = "crm\(Int.random(in: 100_000_000...999_999_999))"
        let password = "pw-\(UUID())"
        _ = try await driver.root.execute("CREATE DATABASE \(crm)")
        _ = try await driver.root.execute("""
            CREATE TABLE \(crm).webhook_events (
                id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, event VARCHAR(32) NOT NULL, uniqueid VARCHAR(50) NOT NULL UNIQUE,
                phone_number VARCHAR(20) NOT NULL, agent_user VARCHAR(20) NOT NULL, campaign_id VARCHAR(20) NULL,
                lead_id INT UNSIGNED NULL, disposition VARCHAR(6) NULL, notes TEXT NULL, call_duration INT NULL,
                received_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)
            """)
        _ = try await driver.root.execute("CREATE USER '\(crm)'@'localhost' IDENTIFIED BY '\(password)'")
        _ = try await driver.root.execute("GRANT SELECT, INSERT ON \(crm).* TO '\(crm)'@'localhost'")

        let php = try PHPServer.start(
            directory: TutorialScriptsTests.fixtures.path,
            environment: [
                "CRM_DB_DSN": "mysql:unix_socket=\(try TestDatabase.variable("AMIBRIDGE_DB_SOCKET"));dbname=\(crm);charset=utf8mb4",
                "CRM_DB_USER": crm, "CRM_DB_PASSWORD": password,
            ]
        )
        defer { php.process.terminate() }
        try await php.started()

        var stream = ByteBuffer()
        for call in calls {
            for segment in 0..<source.segmentCount { source.write(segment: segment, ofCall: call, into: &stream) }
        }
        let traffic = Array(stream.readableBytesView)
        let secret = "tutorial-\(UUID())"
        let state = NSTemporaryDirectory() + "amibridge-tutorial-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: state) }
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let key = try APIKeyStore(stateDirectory: state).create(name: "crm")
        let clickToCallAgent = try await ClickToCallEndToEndTests.agentOnSIP1001(driver)
        let answered = try AMICapture.load("asterisk-20", "sip-originate-answered")
        let customer = try #require(try ClickToCallOutcomeTests.recordedOriginate(answered)["Exten"])
        let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: secret)
        defer { receiver.process.terminate() }

        // dialer1 answers the click-to-call's Originate as recorded; dialer2 carries the dialer's calls.
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.answeringOriginates(from: [answered])) { dialer1 in
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.asterisk { session in
            if session.index == 0 { try await session.write(traffic) }
        }) { server in
            let environment = try RestartResumesHeldCallsTests.environment(amiPort: dialer1.port, state: state, receiverPort: receiverPort, secret: secret)
                .merging([
                    "AMI_EXTRA_SERVERS": "dialer2", "AMI_DIALER2_PORT": String(server.port), "CLICK_TO_CALL_CONTEXT": "customers",
                    "WEBHOOKS_ENDPOINTS": "crm,tutorial",
                    "WEBHOOKS_TUTORIAL_URL": "http://127.0.0.1:\(php.port)/webhook_receiver.php",
                    "WEBHOOKS_TUTORIAL_EVENTS": "call_complete",
                    "WEBHOOKS_TUTORIAL_WAIT_FOR_DISPOSITION": "true",
                    // Any refusal would be a dead letter at once, not a retry that might pass later.
                    "WEBHOOKS_TUTORIAL_MAX_ATTEMPTS": "1",
                    "VICIDIAL_DISPO_WAIT_SECONDS": "30",
                ]) { _, new in new }
            let daemon = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: environment)
            defer { daemon.process.terminate() }
            let apiPort = try await daemon.apiPort()

            // The tutorial's click-to-call: no lead_id, so its one call_complete comes at the hangup.
            let work = state + "/tutorial"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let script = try TutorialScriptsTests.script("click2call.sh", host: "http://127.0.0.1:\(apiPort)", key: key.text, in: work)
            let placed = try await TutorialScriptsTests.run(["bash", script, clickToCallAgent, customer], in: work)
            #expect(placed.output.hasSuffix("Call placed"), "\(placed.output)")
            let callID = try #require(placed.output.firstMatch(of: /call_id=([0-9a-f-]+)/)?.1).description

            // Every call joined (the plain endpoint has its call_complete): now the agent disposes.
            for linkedid in linkedids {
                _ = try #require(try await receiver.output.first { $0.contains("POST call_complete") && $0.contains(linkedid) }, "\(linkedid)")
            }
            _ = try await php.requests(1)
            #expect(php.requests.count == 1, "the waiting endpoint got only the click-to-call before the dispositions: \(php.requests)")
            for (index, lead) in leads.prefix(Self.disposed).enumerated() {
                try await driver.dispose(leadID: lead, user: agent, status: "SALE", comments: "note \(index)")
            }

            // One request per call reaches the receiver: three with a disposition, one after its wait.
            let statuses = try await php.requests(Self.calls + 1)
            #expect(statuses.allSatisfy { $0 == 200 }, "receiver answers: \(statuses)")
            let rows = try await driver.root.query(
                "SELECT event, uniqueid, phone_number, agent_user, campaign_id, lead_id, disposition, notes FROM \(crm).webhook_events ORDER BY id"
            )
            #expect(rows.count == Self.calls + 1)
            var byUniqueid: [String: MariaDBRow] = [:]
            for row in rows { byUniqueid[try row.string("uniqueid") ?? ""] = row }
            let clickToCall = try #require(rows.first, "the click-to-call's row")
            #expect(try clickToCall.string("event") == "call_complete")
            #expect(try clickToCall.string("agent_user") == clickToCallAgent)
            #expect(try clickToCall.string("campaign_id") == "SALES")
            #expect(try clickToCall.string("phone_number") == customer)
            #expect(try clickToCall.string("disposition") == nil)
            let clickToCallEvents = receiver.output.lines.filter { $0.contains(callID) }
            #expect(clickToCallEvents.filter { $0.contains("POST call_complete") }.count == 1, "\(clickToCallEvents)")
            #expect(clickToCallEvents.filter { $0.contains("POST disposition_set") }.isEmpty, "\(clickToCallEvents)")
            for (index, (linkedid, lead)) in zip(linkedids, leads).enumerated() {
                let row = try #require(byUniqueid[linkedid], "no row for call \(index)")
                #expect(try row.string("event") == "call_complete")
                #expect(try row.string("agent_user") == agent)
                #expect(try row.string("campaign_id") == campaign)
                #expect(try row.int("lead_id") == lead)
                #expect(try row.string("phone_number")?.isEmpty == false)
                if index < Self.disposed {
                    #expect(try row.string("disposition") == "SALE", "call \(index)")
                    #expect(try row.string("notes") == "note \(index)", "call \(index)")
                } else {
                    #expect(try row.string("disposition") == nil, "call \(index): never disposed")
                }
            }

            // The plain endpoint: call_complete for each call, disposition_set for each disposed one.
            let plain = try await Self.plainEvents(receiver, linkedids: Set(linkedids), disposed: Set(linkedids.prefix(Self.disposed)))
            for linkedid in linkedids {
                #expect(plain.filter { $0 == ("call_complete", linkedid) }.count == 1, "\(linkedid)")
                #expect(plain.filter { $0 == ("disposition_set", linkedid) }.count == (linkedids.prefix(Self.disposed).contains(linkedid) ? 1 : 0))
            }

            let metrics = try await RestartResumesHeldCallsTests.scrape(port: apiPort)
            for endpoint in ["tutorial", "crm"] {
                #expect(DaemonMetricsTests.value(#"amibridge_outbox_dead_letters{endpoint="\#(endpoint)"}"#, in: metrics) == 0, "\(endpoint)")
            }
            #expect(DaemonMetricsTests.value(#"amibridge_webhook_deliveries_total{endpoint="tutorial",result="delivered"}"#, in: metrics) == Double(Self.calls + 1))
            await daemon.stop()
        }
        }
        _ = try await driver.root.execute("DROP USER '\(crm)'@'localhost'")
        _ = try await driver.root.execute("DROP DATABASE \(crm)")
    }

    /// `(event, linkedid)` of what the plain endpoint received, once every call has its
    /// `call_complete` and every disposed call its `disposition_set`.
    static func plainEvents(_ receiver: ProcessUnderTest, linkedids: Set<String>, disposed: Set<String>) async throws -> [(String, String)] {
        try await receiver.line(containing: "POST disposition_set") // at least one arrived
        var seen: [(String, String)] = []
        var index = -1
        while Set(seen.filter { $0.0 == "disposition_set" }.map(\.1)) != disposed
            || Set(seen.filter { $0.0 == "call_complete" }.map(\.1)) != linkedids {
            let (next, line) = try await receiver.line(containing: "\"event\"", after: index)
            index = next
            guard let brace = line.firstIndex(of: "{"),
                  let body = try JSONSerialization.jsonObject(with: Data(line[brace...].utf8)) as? [String: Any],
                  let event = body["event"] as? String, let linkedid = body["linkedid"] as? String, linkedids.contains(linkedid)
            else { continue }
            #expect(line.hasPrefix("signature ok"), "\(line)")
            seen.append((event, linkedid))
        }
        return seen
    }
}

/// `php -S 127.0.0.1:<port> -t <directory>`: PHP's built-in web server, its access log read line
/// by line (it writes one line per request with the answer's status).
struct PHPServer: Sendable {
    let process: Process
    let port: Int
    let log: LineLog

    static func start(directory: String, environment: [String: String]) throws -> PHPServer {
        let port = try freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["php", "-S", "127.0.0.1:\(port)", "-t", directory]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = stderr
        try process.run()
        return PHPServer(process: process, port: port, log: LineLog(ChildProcess.lines(of: stderr.fileHandleForReading)))
    }

    func started() async throws {
        let line = try await log.first(within: .seconds(30)) { $0.contains("Development Server") && $0.contains("started") }
        try #require(line != nil, "php -S did not start (is php-cli installed?): \(log.lines.joined(separator: "\n"))")
    }

    /// The status of every request to the receiver so far.
    var requests: [Int] {
        log.lines.compactMap(Self.status)
    }

    /// Waits until `count` requests were answered; their statuses.
    func requests(_ count: Int) async throws -> [Int] {
        var index = -1
        var statuses: [Int] = []
        while statuses.count < count {
            let found = try await log.first(after: index, within: .seconds(120)) { Self.status($0) != nil }
            let (next, line) = try #require(found, "the receiver got \(statuses.count) of \(count) requests: \(log.lines.joined(separator: "\n"))")
            index = next
            statuses.append(Self.status(line)!)
        }
        return statuses
    }

    /// `[Sat Dec  5 01:30:00 2026] 127.0.0.1:54321 [200]: POST /webhook_receiver.php`.
    static func status(_ line: String) -> Int? {
        guard let range = line.range(of: "]: POST /webhook_receiver.php"),
              let open = line[..<range.lowerBound].lastIndex(of: "[") else { return nil }
        return Int(line[line.index(after: open)..<range.lowerBound])
    }

    /// A port nothing listens on now (bound and released; PHP cannot report a port 0 choice).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound, "could not bind a port")
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
