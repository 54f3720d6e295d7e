import AMITestSupport
import CRMSink
import EventLog
import Foundation
import Logging
import Testing

/// The built daemon with `nats:` configured, replaying a recorded burst of 20 calls against a real
/// nats-server (JetStream, temporary store, a free port on 127.0.0.1): every event reaches the
/// stream exactly once with its event_id as `Nats-Msg-Id`, while the receiver gets its webhooks.
@Suite("Event log publish (daemon)", .enabled(if: NATSServerProcess.isInstalled, "nats-server is not installed"), .serialized)
struct EventLogPublishTests {
    static let calls = 20

    /// A daemon on `ami` publishing to `nats` and delivering to the receiver at `receiverPort`.
    static func daemon(
        ami: Int, nats: NATSServerProcess, stream: String, receiverPort: Int, secret: String, state: String, window: Int = 1
    ) throws -> ProcessUnderTest {
        try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: GatedReplay.amiEnvironment(port: ami).merging([
            "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0", "LOG_LEVEL": "info", "WEBHOOKS_ENDPOINTS": "crm",
            "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiverPort)/hooks", "WEBHOOKS_CRM_SECRET": secret,
            "NATS_URLS": nats.url, "NATS_STREAM": stream, "NATS_PUBLISH_TIMEOUT_MS": "1000", "NATS_RECONNECT_WAIT_MS": "200",
            "NATS_PUBLISH_WINDOW": String(window),
        ]) { _, new in new })
    }

    static func connection(_ nats: NATSServerProcess) throws -> JetStreamConnection {
        var configuration = JetStreamConnection.Configuration()
        configuration.urls = [nats.url]
        return try JetStreamConnection(configuration: configuration, logger: Logger(label: "test"))
    }

    /// The event ids the receiver got (`delivery=<event_id>`), in order, duplicates kept.
    static func deliveredIDs(_ receiver: ProcessUnderTest) -> [String] {
        receiver.output.lines.compactMap { line in
            guard let range = line.range(of: "delivery=") else { return nil }
            return String(line[range.upperBound...].prefix { !$0.isWhitespace })
        }
    }

    /// Waits until the daemon behind `port` owes the receiver nothing (every webhook answered).
    static func webhooksDrained(port: Int) async throws {
        while DaemonMetricsTests.value(#"amibridge_outbox_depth{endpoint="crm"}"#, in: try DaemonMetricsTests.scrape(port: port)) != 0 {
            try await Task.sleep(for: .milliseconds(100))
        }
        // The receiver prints a delivery before it answers it; give the pipe a moment.
        try await Task.sleep(for: .milliseconds(200))
    }

    /// Waits until the stream holds `count` messages (or the deadline), then returns them all.
    static func streamMessages(_ connection: JetStreamConnection, _ stream: String, count: Int) async throws -> [JetStreamConnection.StoredMessage] {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let info = try? await connection.streamInfo(stream), info.messages >= UInt64(count) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        // Anything more would be a duplicate: give it a moment to show.
        try await Task.sleep(for: .milliseconds(500))
        return try await connection.messages(stream: stream)
    }

    /// Every message: subject `amibridge.dialer1.<event>`, `Nats-Msg-Id` = the body's event_id, no id twice.
    static func expectWellFormed(_ messages: [JetStreamConnection.StoredMessage]) {
        var ids = Set<String>()
        for message in messages {
            let object = (try? JSONSerialization.jsonObject(with: Data(message.body))) as? [String: Any]
            let eventID = object?["event_id"] as? String
            let event = object?["event"] as? String
            #expect(message.msgID != nil && message.msgID == eventID, "\(message)")
            #expect(message.subject == "amibridge.dialer1.\(event ?? "?")", "\(message.subject)")
            #expect(ids.insert(message.msgID ?? "").inserted, "\(message.msgID ?? "") twice in the stream")
        }
    }

    /// `count` bridges (daemons with their own state directories) on one gated burst replay, one
    /// nats-server and one receiver, all running until `body` returns.
    struct Bridges: Sendable {
        let nats: NATSServerProcess
        let receiver: ProcessUnderTest
        let daemons: [ProcessUnderTest]
        let ports: [Int]
        let gate: Gate

        /// Opens the gate and waits until every bridge has delivered every call's call_complete
        /// and owes the receiver nothing; returns the event ids received (duplicates kept).
        func replayAndDeliver() async throws -> [String] {
            gate.open()
            var index = -1
            for _ in 0..<(daemons.count * EventLogPublishTests.calls) {
                index = try await receiver.line(containing: "POST call_complete", after: index).index
            }
            for port in ports { try await EventLogPublishTests.webhooksDrained(port: port) }
            return EventLogPublishTests.deliveredIDs(receiver)
        }
    }

    static func withBridges(_ count: Int = 1, stream: String, window: Int = 1, _ body: @escaping @Sendable (Bridges) async throws -> Void) async throws {
        let nats = NATSServerProcess()
        try await nats.start()
        let secret = "nats-\(UUID())"
        let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: secret)
        defer { receiver.process.terminate() }
        let states = (0..<count).map { _ in NSTemporaryDirectory() + "amibridge-nats-" + UUID().uuidString }
        defer { for state in states { try? FileManager.default.removeItem(atPath: state) } }
        // Each AMI client gets the same recorded stream, as bridges logged in to one Asterisk do.
        let ami = try GatedReplay("burst-20-calls")
        try await FakeAMIServer.withServer(behavior: ami.behavior) { server in
            let daemons = try states.map {
                try Self.daemon(ami: server.port, nats: nats, stream: stream, receiverPort: receiverPort, secret: secret, state: $0, window: window)
            }
            defer { for daemon in daemons { daemon.process.terminate() } }
            try await withDeadline(.seconds(120)) {
                var ports: [Int] = []
                for daemon in daemons { ports.append(try await daemon.apiPort()) }
                try await body(Bridges(nats: nats, receiver: receiver, daemons: daemons, ports: ports, gate: ami.gate))
            }
            for daemon in daemons {
                await daemon.stop()
                #expect(daemon.process.terminationStatus == 0)
            }
        }
        await nats.stop()
    }

    @Test("every event in the stream once, with its event_id as Nats-Msg-Id; the webhooks flow too")
    func publishesEveryEventOnce() async throws {
        try await Self.withBridges(stream: "ONCE") { bridges in
            let delivered = Set(try await bridges.replayAndDeliver())
            let messages = try await Self.streamMessages(try Self.connection(bridges.nats), "ONCE", count: delivered.count)
            Self.expectWellFormed(messages)
            #expect(Set(messages.compactMap(\.msgID)) == delivered)
            #expect(messages.filter { $0.subject.hasSuffix(".call_complete") }.count == Self.calls)

            let metrics = try DaemonMetricsTests.scrape(port: bridges.ports[0])
            #expect(DaemonMetricsTests.value(#"amibridge_nats_published_total{result="ack"}"#, in: metrics) == Double(messages.count), "\(metrics)")
            #expect(DaemonMetricsTests.value("amibridge_nats_pending", in: metrics) == 0)
            #expect((DaemonMetricsTests.value("amibridge_nats_publish_seconds_count", in: metrics) ?? 0) == Double(messages.count))

            // The status page's event-log line (status.json is rebuilt at most once a second).
            var log: [String: Any] = [:]
            let deadline = ContinuousClock.now + .seconds(10)
            repeat {
                let response = try CurlHTTPClient().perform(CurlHTTPRequest(method: "GET", url: "http://127.0.0.1:\(bridges.ports[0])/status.json"))
                log = ((try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["event_log"] as? [String: Any]) ?? [:]
                if log["published"] as? Int == messages.count { break }
                try await Task.sleep(for: .milliseconds(200))
            } while ContinuousClock.now < deadline
            #expect(log["connected"] as? Bool == true && log["stream"] as? String == "ONCE", "\(log)")
            #expect((log["server"] as? String)?.contains("127.0.0.1") == true, "\(log)")
            #expect(log["published"] as? Int == messages.count && log["pending"] as? Int == 0 && log["failures"] as? Int == 0, "\(log)")
        }
    }

    @Test("NATS down during the calls: the webhooks flow, the events wait in the outbox, and reach the stream once it is back")
    func survivesANATSOutage() async throws {
        try await Self.withBridges(stream: "OUTAGE") { bridges in
            let port = bridges.ports[0]
            // The stream exists (the daemon made it), then the server dies (SIGKILL) before any call.
            try await bridges.daemons[0].line(containing: "JetStream stream created")
            await bridges.nats.stop()
            let delivered = Set(try await bridges.replayAndDeliver())
            let during = try DaemonMetricsTests.scrape(port: port)
            #expect(DaemonMetricsTests.value("amibridge_nats_pending", in: during) == Double(delivered.count), "\(during)")
            #expect(DaemonMetricsTests.value(#"amibridge_nats_published_total{result="ack"}"#, in: during) ?? 0 == 0)
            // Down long enough for publishes to fail (each waits 1 s for its ack) and be retried.
            var errors = 0.0
            while errors < 2 {
                try await Task.sleep(for: .milliseconds(200))
                errors = DaemonMetricsTests.value(#"amibridge_nats_published_total{result="error"}"#, in: try DaemonMetricsTests.scrape(port: port)) ?? 0
            }
            let readiness = try CurlHTTPClient().perform(CurlHTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/readyz"))
            let readinessBody = String(decoding: readiness.body, as: UTF8.self)
            #expect(readiness.status == 503 && readinessBody.contains("nats"), "\(readiness.status) \(readinessBody)")

            try await bridges.nats.start()
            let messages = try await Self.streamMessages(try Self.connection(bridges.nats), "OUTAGE", count: delivered.count)
            Self.expectWellFormed(messages)
            #expect(Set(messages.compactMap(\.msgID)) == delivered, "lost: \(delivered.subtracting(messages.compactMap(\.msgID)).count)")
            let after = try DaemonMetricsTests.scrape(port: port)
            #expect(DaemonMetricsTests.value("amibridge_nats_pending", in: after) == 0)
            #expect((DaemonMetricsTests.value(#"amibridge_nats_published_total{result="error"}"#, in: after) ?? 0) >= 2)
        }
    }

    @Test("amibridge check: a nats line for the connection and the stream as configured")
    func checkLine() async throws {
        let nats = NATSServerProcess()
        try await nats.start()
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.asterisk()) { server in
            let environment = [
                "AMI_PORT": String(server.port), "AMI_SECRET": "s3cret-check", "AMI_USERNAME": "bridge", "AMI_AUTH": "plain",
                "NATS_URLS": nats.url, "NATS_STREAM": "CHECK", "NATS_DUPLICATE_WINDOW_SECONDS": "600",
                "STATE_DIR": NSTemporaryDirectory() + "amibridge-check-" + UUID().uuidString,
            ]
            let arguments = ["check", "--config", DaemonProcessTests.exampleConfig.path, "--timeout", "30"]
            let missing = try await ProcessUnderTest.run(arguments, environment: environment)
            #expect(missing.status == 0, "\(missing.lines)")
            #expect(missing.lines.contains { $0.hasPrefix("✓ nats: connected to nats://127.0.0.1:\(nats.port)") && $0.contains("stream CHECK missing") }, "\(missing.lines)")

            var stream = JetStreamConnection.StreamConfiguration()
            stream.name = "CHECK"
            stream.duplicateWindow = .seconds(120)
            try await Self.connection(nats).ensureStream(stream)
            let differs = try await ProcessUnderTest.run(arguments, environment: environment)
            #expect(differs.status == 1)
            #expect(differs.lines.contains { $0.hasPrefix("✗ nats: stream CHECK differs: duplicate window") }, "\(differs.lines)")

            stream.duplicateWindow = .seconds(600)
            try await Self.connection(nats).ensureStream(stream)
            let same = try await ProcessUnderTest.run(arguments, environment: environment)
            #expect(same.lines.contains { $0.hasPrefix("✓ nats: ") && $0.contains("stream CHECK R1, 0 messages") }, "\(same.lines)")

            await nats.stop()
            let down = try await ProcessUnderTest.run(arguments, environment: environment)
            #expect(down.status == 1)
            #expect(down.lines.contains { $0.hasPrefix("✗ nats: no NATS server answers") }, "\(down.lines)")
        }
    }

    @Test("two bridges on the same dialer, active-active: each event once in the stream (the duplicate window), both deliver", arguments: [1, 64])
    func twoBridgesStoreEachEventOnce(window: Int) async throws {
        try await Self.withBridges(2, stream: "TWO", window: window) { bridges in
            let delivered = try await bridges.replayAndDeliver()
            let distinct = Set(delivered)
            #expect(delivered.count == 2 * distinct.count, "each bridge delivers every event (same event_id)")
            let messages = try await Self.streamMessages(try Self.connection(bridges.nats), "TWO", count: distinct.count)
            Self.expectWellFormed(messages)
            #expect(messages.count == distinct.count)
            #expect(Set(messages.compactMap(\.msgID)) == distinct)
            // Both bridges published; between them, each event was stored once and acknowledged as a duplicate once.
            var acks = 0.0, duplicates = 0.0
            for port in bridges.ports {
                var metrics = try DaemonMetricsTests.scrape(port: port)
                while DaemonMetricsTests.value("amibridge_nats_pending", in: metrics) != 0 {
                    try await Task.sleep(for: .milliseconds(100))
                    metrics = try DaemonMetricsTests.scrape(port: port)
                }
                acks += DaemonMetricsTests.value(#"amibridge_nats_published_total{result="ack"}"#, in: metrics) ?? 0
                duplicates += DaemonMetricsTests.value(#"amibridge_nats_published_total{result="duplicate"}"#, in: metrics) ?? 0
            }
            #expect(acks == Double(distinct.count))
            #expect(duplicates == Double(distinct.count))
        }
    }
}
