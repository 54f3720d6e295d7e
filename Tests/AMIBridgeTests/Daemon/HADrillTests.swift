import AMITestSupport
import CRMSink
import EventLog
import Foundation
import Logging
import Testing

/// The high-availability drill of README "Running more than one bridge", on loopback with real
/// parts: deploy/nats-cluster's three nats-server nodes (free ports) with an R3 stream, two built
/// `amibridge run` daemons logged in to one fake Asterisk streaming the same calls to both (as two
/// bridges on one dialer see them), and `amibridge receive` as the CRM. Mid-stream one part is
/// SIGKILLed: a bridge, or the nats-server leading the stream. After the stream: every call's
/// `call_complete` is in the stream exactly once (by `Nats-Msg-Id` = `event_id`) and reached the
/// receiver (twice only under the same `event_id`); none lost.
@Suite("HA drill (two bridges, three NATS nodes)", .enabled(if: NATSServerProcess.isInstalled, "nats-server is not installed"), .serialized)
struct HADrillTests {
    /// 150 calls at 30 calls/s (each call's events spread over 1 s): two 2.5-second halves.
    static let calls = 150
    static let callsPerSecond = 30.0
    static let stream = "DRILL"
    static let clusterConfigs = DaemonProcessTests.exampleConfig.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/nats-cluster")

    enum Failure: String, CustomStringConvertible {
        case bridge, streamLeader
        var description: String { rawValue }
    }

    @Test("SIGKILL one bridge mid-stream: the other publishes and delivers every call; each call_complete once in the stream, none lost")
    func bridgeKilled() async throws {
        try await Self.drill(killing: .bridge)
    }

    @Test("SIGKILL the nats-server leading the R3 stream mid-stream: a new leader takes over; each call_complete once in the stream, none lost")
    func streamLeaderKilled() async throws {
        try await Self.drill(killing: .streamLeader)
    }

    // MARK: The drill

    static func drill(killing failure: Failure) async throws {
        let cluster = try NATSCluster(configFiles: (1...3).map { Self.clusterConfigs.appendingPathComponent("n\($0).conf").path })
        try await cluster.start()
        let connection = try await Self.connection(cluster.urls)
        try await Self.createStream(connection)

        let secret = "drill-\(UUID())"
        let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: secret)
        defer { receiver.process.terminate() }
        let source = try CallStormSource()
        let dialer = try await CallStormServer.start(source: source)
        let states = (0..<2).map { _ in NSTemporaryDirectory() + "amibridge-drill-" + UUID().uuidString }
        defer { for state in states { try? FileManager.default.removeItem(atPath: state) } }
        let bridges = try states.map { state in
            try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: [
                "AMI_PORT": String(dialer.port), "AMI_USERNAME": "bridge", "AMI_SECRET": "s3cret-AMI", "AMI_AUTH": "plain",
                "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0", "LOG_LEVEL": "info", "WEBHOOKS_ENDPOINTS": "crm",
                "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiverPort)/hooks", "WEBHOOKS_CRM_SECRET": secret,
                "NATS_URLS": cluster.urls.joined(separator: ","), "NATS_STREAM": Self.stream, "NATS_REPLICAS": "3",
                "NATS_PUBLISH_TIMEOUT_MS": "1000", "NATS_RECONNECT_WAIT_MS": "200",
            ])
        }
        defer { for bridge in bridges where bridge.process.isRunning { bridge.signal(SIGKILL) } }

        try await withDeadline(.seconds(90)) {
            var ports: [Int] = []
            for bridge in bridges { ports.append(try await bridge.apiPort()) }
            // Both logged in and reconciled: each gets the whole stream from its first call.
            try await dialer.waitForClients(2, at: .reconciled, timeout: .seconds(30))

            // Two halves, the failure between: it comes after some calls have completed, while the
            // first half may still be streaming, and before the second half's calls begin.
            let seconds = Double(Self.calls / 2) / Self.callsPerSecond
            let halves = [0, Self.calls / 2].map { first in
                CallStormPlan.rate(Self.callsPerSecond, seconds: seconds, callSeconds: 1, firstCall: first, source: source)
            }
            #expect(halves.map(\.calls).reduce(0, +) == Self.calls)
            async let firstHalf = dialer.stream(halves[0])

            var tally = ReceiverTally()
            try await tally.read(receiver, untilCompleted: Self.calls / 6)
            var survivors = ports
            var killedNode: String?
            switch failure {
            case .bridge:
                // The victim was publishing (one of the two bridges storing first, the other acknowledged as a duplicate).
                let before = try DaemonMetricsTests.scrape(port: ports[1])
                let published = ["ack", "duplicate"].compactMap { DaemonMetricsTests.value(#"amibridge_nats_published_total{result="\#($0)"}"#, in: before) }.reduce(0, +)
                #expect(published > 0, "the bridge to be killed had published nothing: \(before)")
                bridges[1].signal(SIGKILL)
                await ChildProcess.waitForExit(bridges[1].process)
                survivors = [ports[0]]
            case .streamLeader:
                let leader = try #require(try await connection.streamInfo(Self.stream)?.leader)
                await cluster.node(named: leader)?.stop()
                killedNode = leader
            }
            let written = [try await firstHalf, try await dialer.stream(halves[1])]
            #expect(written.map(\.eventsWithoutClient) == [0, 0])
            try await tally.read(receiver, untilCompleted: Self.calls)
            // Every surviving bridge has delivered and published everything it stored.
            for port in survivors { try await Self.drained(port: port) }
            try await tally.barrier(receiver, port: receiverPort)
            let messages = try await connection.messages(stream: Self.stream)

            let report = DrillReport(calls: Self.calls, source: source, received: tally, stream: messages)
            #expect(report.inStream == Self.calls, "\(report)")
            #expect(report.delivered == Self.calls, "\(report)")
            #expect(report.duplicatesInStream == 0, "\(report)")
            #expect(report.deliveredUnderAnotherID == 0, "\(report)")
            #expect(report.streamAndReceiverDisagree == 0, "\(report)")
            #expect(report.malformed == 0, "\(report)")
            #expect(report.lost == 0, "\(report)")
            #expect(tally.badSignatures == 0)

            if let killedNode {
                let info = try await connection.streamInfo(Self.stream)
                #expect(info?.leader != nil && info?.leader != killedNode, "the stream is led by \(info?.leader ?? "nobody")")
            } else {
                // The survivor published every event itself (stored, or acknowledged as stored by the other first).
                let metrics = try DaemonMetricsTests.scrape(port: ports[0])
                let published = ["ack", "duplicate"].compactMap { DaemonMetricsTests.value(#"amibridge_nats_published_total{result="\#($0)"}"#, in: metrics) }.reduce(0, +)
                #expect(published >= Double(messages.count), "\(metrics)")
            }
        }
        for bridge in bridges where bridge.process.isRunning {
            await bridge.stop()
            #expect(bridge.process.terminationStatus == 0)
        }
        await dialer.close()
        await cluster.stop()
    }

    // MARK: Helpers

    static func connection(_ urls: [String]) async throws -> JetStreamConnection {
        var configuration = JetStreamConnection.Configuration()
        configuration.urls = urls
        configuration.requestTimeout = .seconds(2)
        configuration.reconnectWait = .milliseconds(100)
        return try await JetStreamConnection.connect(configuration: configuration, logger: Logger(label: "drill"))
    }

    /// The stream as the bridges configure it (so they find it as they want it), created once the
    /// cluster has elected its JetStream meta leader.
    static func createStream(_ connection: JetStreamConnection) async throws {
        var stream = JetStreamConnection.StreamConfiguration()
        stream.name = Self.stream
        stream.replicas = 3
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                let info = try await connection.ensureStream(stream)
                #expect(info.configuration.replicas == 3)
                return
            } catch {
                // No meta leader yet: the request times out or is refused until the election.
                guard ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Until the daemon behind `port` owes nothing: no webhook waiting and no event unpublished.
    static func drained(port: Int) async throws {
        while true {
            let metrics = try DaemonMetricsTests.scrape(port: port)
            if DaemonMetricsTests.value(#"amibridge_outbox_depth{endpoint="crm"}"#, in: metrics) == 0,
               DaemonMetricsTests.value("amibridge_nats_pending", in: metrics) == 0 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// The receiver's `call_complete` deliveries, by call: the event ids each call's arrived under.
struct ReceiverTally: Sendable {
    private(set) var eventIDs: [Int: [String]] = [:]
    private(set) var badSignatures = 0
    private(set) var unparsed = 0
    private var lastLine = -1

    var completedCalls: Int { eventIDs.count }

    /// Reads the receiver's lines until `count` calls have had a `call_complete`.
    mutating func read(_ receiver: ProcessUnderTest, untilCompleted count: Int) async throws {
        while eventIDs.count < count {
            let found = try await receiver.line(containing: "POST call_complete", after: lastLine)
            let lines = receiver.output.lines
            for index in (lastLine + 1)...found.index { note(lines[index]) }
            lastLine = found.index
        }
    }

    /// After the daemons owe nothing: a GET of a fresh path, whose line comes after every delivery
    /// the receiver has printed (it prints each before answering it), then every line up to it.
    mutating func barrier(_ receiver: ProcessUnderTest, port: Int) async throws {
        let marker = "drill-barrier-\(UUID())"
        let response = try CurlHTTPClient().perform(CurlHTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/\(marker)"))
        #expect(response.status == 200)
        let found = try await receiver.line(containing: marker, after: lastLine)
        let lines = receiver.output.lines
        if found.index > lastLine + 1 {
            for index in (lastLine + 1)..<found.index { note(lines[index]) }
        }
        lastLine = found.index
    }

    /// `signature ok  POST call_complete  delivery=<event_id>  {body}`.
    private mutating func note(_ line: String) {
        guard line.contains("POST call_complete") else { return }
        guard line.hasPrefix("signature ok") else { badSignatures += 1; return }
        guard let delivery = line.range(of: "delivery="), let brace = line.firstIndex(of: "{"),
              let object = try? JSONSerialization.jsonObject(with: Data(line[brace...].utf8)) as? [String: Any],
              let linkedid = object["linkedid"] as? String, let call = CallStormSource.call(ofLinkedid: Array(linkedid.utf8))
        else { unparsed += 1; return }
        let id = String(line[delivery.upperBound...].prefix { !$0.isWhitespace })
        eventIDs[call, default: []].append(id)
    }
}

/// What the drill found, per call of the storm.
struct DrillReport: CustomStringConvertible {
    /// Calls with exactly one `call_complete` in the stream.
    var inStream = 0
    /// Calls whose `call_complete` reached the receiver.
    var delivered = 0
    /// Messages whose `Nats-Msg-Id` another message has too, plus calls with more than one `call_complete` message.
    var duplicatesInStream = 0
    /// Calls delivered under two different event ids.
    var deliveredUnderAnotherID = 0
    /// Calls whose stream message and delivery carry different event ids.
    var streamAndReceiverDisagree = 0
    /// Stream messages without `Nats-Msg-Id` = body `event_id`, or naming no call of the storm.
    var malformed = 0
    /// Calls missing from the stream or from the receiver.
    var lost = 0

    init(calls: Int, source: CallStormSource, received: ReceiverTally, stream: [JetStreamConnection.StoredMessage]) {
        var seen = Set<String>()
        var streamIDs: [Int: [String]] = [:]
        for message in stream {
            if let id = message.msgID, !seen.insert(id).inserted { duplicatesInStream += 1 }
            guard message.subject.hasSuffix(".call_complete") else { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(message.body))) as? [String: Any],
                  let eventID = object["event_id"] as? String, eventID == message.msgID,
                  let linkedid = object["linkedid"] as? String, let call = CallStormSource.call(ofLinkedid: Array(linkedid.utf8)), call < calls
            else { malformed += 1; continue }
            streamIDs[call, default: []].append(eventID)
        }
        for call in 0..<calls {
            let stored = streamIDs[call] ?? []
            let arrived = Set(received.eventIDs[call] ?? [])
            if stored.count == 1 { inStream += 1 }
            if stored.count > 1 { duplicatesInStream += stored.count - 1 }
            if !arrived.isEmpty { delivered += 1 }
            if arrived.count > 1 { deliveredUnderAnotherID += 1 }
            if let id = stored.first, !arrived.isEmpty, arrived != [id] { streamAndReceiverDisagree += 1 }
            if stored.isEmpty || arrived.isEmpty { lost += 1 }
        }
    }

    var description: String {
        "in stream \(inStream), delivered \(delivered), duplicates in stream \(duplicatesInStream), delivered under another id \(deliveredUnderAnotherID), "
            + "stream/receiver disagree \(streamAndReceiverDisagree), malformed \(malformed), lost \(lost)"
    }
}
