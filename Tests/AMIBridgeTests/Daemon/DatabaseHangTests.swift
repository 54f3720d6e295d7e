import AMIProtocol
import AMITestSupport
import CRMSink
import Foundation
import Synchronization
import Testing
import ViciDialTestSupport

/// The built daemon with its ViciDial database hung: the private MariaDB behind a
/// ``HangingTCPProxy`` that stops every byte for 30 s while recorded calls keep coming from a fake
/// Asterisk. Only what a user sees is checked: HTTP answers, webhooks at a real receiver, the log.
@Suite("Database hang")
struct DatabaseHangTests {
    static let hangDuration: Duration = .seconds(30)
    /// How fast `/metrics` and `/healthz` must answer while the database hangs.
    static let promptAnswer: Duration = .seconds(2)

    @Test("a database hung for 30 s stalls neither /metrics nor /healthz, /readyz says so, no AMI event is lost, every call_complete arrives once")
    func hungDatabase() async throws {
        let burst = try RecordedBurst("burst-20-calls")
        let secret = "hang-\(UUID())"
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("amibridge-dbhang-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let database = try TestDatabase.tcpConfiguration()
        guard case .tcp(let databaseHost, let databasePort) = database.endpoint else { throw TestDatabase.TestDatabaseNotConfigured(description: "no TCP endpoint") }
        let (bursts, nextBurst) = AsyncStream.makeStream(of: Int.self)

        try await HangingTCPProxy.withProxy(to: databaseHost, port: databasePort) { proxy in
            try await FakeAMIServer.withServer(behavior: burst.behavior(bursts)) { ami in
                let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: secret)
                defer { receiver.process.terminate() }
                let daemon = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: [
                    "AMI_PORT": String(ami.port), "AMI_USERNAME": "bridge", "AMI_SECRET": "s3cret-AMI", "AMI_AUTH": "plain",
                    "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0",
                    "WEBHOOKS_ENDPOINTS": "crm", "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiverPort)/hooks", "WEBHOOKS_CRM_SECRET": secret,
                    "VICIDIAL_DB_HOST": "127.0.0.1", "VICIDIAL_DB_PORT": String(proxy.port),
                    "VICIDIAL_DB_USER": database.username, "VICIDIAL_DB_PASSWORD": database.password, "VICIDIAL_DB_NAME": database.database ?? "",
                    // No vicidial_log rows come for these calls: a short wait for them keeps the test quick.
                    "VICIDIAL_ROW_POLL_SECONDS": "1", "VICIDIAL_ROW_WAIT_SECONDS": "2", "VICIDIAL_DISPO_WAIT_SECONDS": "0",
                ])
                defer { daemon.process.terminate() }
                let deliveries = receiver.output
                let api = "http://127.0.0.1:\(try await daemon.apiPort())"
                try await daemon.line(containing: "AMI logged in")

                // Before the hang: calls flow, and the join reaches the database.
                nextBurst.yield(0)
                try await Self.awaitWebhooks("call_complete", count: burst.callsPerBurst, in: deliveries, daemon: daemon)
                let ready = try await HTTPProbe.get(api + "/readyz")
                #expect(ready.status == 200, "\(ready.body)")

                proxy.hang()
                let hangEnds = ContinuousClock.now + Self.hangDuration
                // More calls while it hangs: each is tracked and answered at once.
                for round in 1...2 {
                    nextBurst.yield(round)
                    try await Self.awaitWebhooks("call_answered", count: burst.callsPerBurst * (round + 1), in: deliveries, daemon: daemon)
                }
                var probes = 0
                var sawNotReady = false
                while ContinuousClock.now < hangEnds {
                    for path in ["/metrics", "/healthz"] {
                        let answer = try await HTTPProbe.get(api + path)
                        #expect(answer.status == 200, "\(path) during the hang: \(answer.status)")
                        #expect(answer.elapsed < Self.promptAnswer, "\(path) took \(answer.elapsed) during the hang")
                        probes += 1
                    }
                    let readiness = try await HTTPProbe.get(api + "/readyz")
                    // Bounded by the database check's 2 s, with room for a loaded machine.
                    #expect(readiness.elapsed < .seconds(5), "/readyz took \(readiness.elapsed) during the hang")
                    if readiness.status == 503, Self.databaseState(readiness.body) == "not_ready" { sawNotReady = true }
                    try await Task.sleep(for: .milliseconds(500))
                }
                #expect(probes >= 10)
                #expect(sawNotReady, "/readyz never reported the hung database")
                #expect(proxy.isHanging)

                proxy.flow()
                let completes = try await Self.awaitWebhooks("call_complete", count: burst.callsPerBurst * 3, in: deliveries, daemon: daemon)
                let linkedids = completes.compactMap(Self.linkedid)
                #expect(linkedids.count == burst.callsPerBurst * 3)
                #expect(Set(linkedids).count == linkedids.count, "a call_complete came twice")
                #expect(completes.allSatisfy { $0.hasPrefix("signature ok") })

                // Every event of the three bursts reached the tracker, none dropped, no reconnect.
                let metrics = try await HTTPProbe.get(api + "/metrics").body
                for (event, count) in burst.eventCounts where ["Hangup", "Newchannel", "OriginateResponse"].contains(event) {
                    #expect(DaemonMetricsTests.value(#"amibridge_ami_events_total{server="dialer1",event="\#(event)"}"#, in: metrics) == Double(count * 3), "\(event)")
                }
                #expect(DaemonMetricsTests.value(#"amibridge_ami_reconnects_total{server="dialer1"}"#, in: metrics) == 0)
                #expect(DaemonMetricsTests.value("amibridge_calls_active", in: metrics) == 0)

                // The log says what happened to the database.
                let log = daemon.output.lines
                #expect(log.contains { $0.contains("ViciDial lookup failed") && $0.contains("9002") }, "no logged lookup timeout:\n\(log.suffix(30).joined(separator: "\n"))")
                #expect(log.contains { $0.contains("ViciDial database not answering") })
                // Ready again once the probe's own connection is back (it may still be timing out).
                let readyAgain = ContinuousClock.now + .seconds(30)
                var readiness = try await HTTPProbe.get(api + "/readyz")
                while readiness.status != 200, ContinuousClock.now < readyAgain {
                    try await Task.sleep(for: .milliseconds(500))
                    readiness = try await HTTPProbe.get(api + "/readyz")
                }
                #expect(readiness.status == 200, "\(readiness.body)")
                try await daemon.line(containing: "ViciDial database answers again")
                await daemon.stop()
                #expect(daemon.process.terminationStatus == 0, "stderr:\n\(daemon.errors.lines.joined(separator: "\n"))\nlog:\n\(daemon.output.lines.suffix(15).joined(separator: "\n"))")
            }
        }
    }

    /// Waits until `count` webhooks named `name` have reached the receiver; returns their lines.
    @discardableResult
    static func awaitWebhooks(_ name: String, count: Int, in deliveries: LineLog, daemon: ProcessUnderTest) async throws -> [String] {
        var matching: [String] = []
        var index = -1
        while matching.count < count {
            let found: (index: Int, line: String)?
            do {
                found = try await deliveries.first(after: index, within: .seconds(120)) { $0.contains("POST \(name) ") }
            } catch {
                Issue.record("\(matching.count) of \(count) \(name) webhooks. Daemon:\n\(daemon.output.lines.suffix(30).joined(separator: "\n"))")
                throw error
            }
            let next = try #require(found, "the receiver stopped after \(matching.count) of \(count) \(name) webhooks")
            matching.append(next.line)
            index = next.index
        }
        return matching
    }

    /// The state `/readyz` gives the database check (`ready`, `not_ready`), nil if absent.
    static func databaseState(_ body: String) -> String? {
        let report = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        let checks = report?["checks"] as? [[String: Any]] ?? []
        return checks.first { $0["name"] as? String == "vicidial_db" }?["state"] as? String
    }

    /// The `linkedid` of a webhook line's JSON body.
    static func linkedid(_ line: String) -> String? {
        guard let range = line.range(of: #""linkedid":""#) else { return nil }
        return String(line[range.upperBound...].prefix { $0 != "\"" })
    }
}

/// A recorded session's events as a fake Asterisk's traffic, sent again on each signal from the
/// test with new uniqueids and Linkedids, so every round is new calls.
struct RecordedBurst: Sendable {
    /// The events after the login, whole messages in recorded order.
    let messages: [String]
    /// The seconds part every uniqueid of the recording shares (`1795615948` of `1795615948.31`).
    let uniqueidEpoch: String
    let callsPerBurst: Int
    let eventCounts: [String: Int]

    init(_ capture: String) throws {
        let recording = try AMICapture.load("asterisk-20", capture)
        let text = recording.entries.filter { $0.dir == .recv }.map(\.data).joined()
        // Events only: the recorded responses answer Originates this daemon never sent.
        messages = text.components(separatedBy: "\r\n\r\n").filter { $0.hasPrefix("Event: ") && !$0.hasPrefix("Event: FullyBooted") }.map { $0 + "\r\n\r\n" }
        let linkedids = Set(messages.compactMap { message in
            message.components(separatedBy: "\r\n").first { $0.hasPrefix("Linkedid: ") }.map { String($0.dropFirst("Linkedid: ".count)) }
        })
        callsPerBurst = linkedids.count
        uniqueidEpoch = String(try #require(linkedids.first?.split(separator: ".").first))
        eventCounts = messages.reduce(into: [:]) { counts, message in
            let name = message.components(separatedBy: "\r\n")[0].dropFirst("Event: ".count)
            counts[String(name), default: 0] += 1
        }
    }

    /// Round `round`'s bytes, in writes of whole messages (so an action's answer written between
    /// two of them never splits a message).
    func writes(round: Int) -> [String] {
        let epoch = String((Int(uniqueidEpoch) ?? 0) + 1000 + round)
        var writes: [String] = []
        var current = ""
        for message in messages {
            current += message.replacingOccurrences(of: uniqueidEpoch + ".", with: epoch + ".")
            if current.utf8.count > 32_768 {
                writes.append(current)
                current = ""
            }
        }
        if !current.isEmpty { writes.append(current) }
        return writes
    }

    /// An Asterisk that answers every action as Asterisk 20 would and, alongside, sends a round of
    /// calls each time `rounds` yields a round number.
    func behavior(_ rounds: AsyncStream<Int>) -> FakeAMIServer.Behavior {
        { session in
            try await session.write("Asterisk Call Manager/9.0.0\r\n")
            let writer = SessionWriter(session: session)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await round in rounds {
                        for bytes in self.writes(round: round) { try await writer.write(bytes) }
                    }
                }
                defer { group.cancelAll() }
                while let action = try await session.nextAction() {
                    guard try await session.answerGenerically(action) else { break }
                }
            }
        }
    }

    /// The session's writing half for a second task. `write` only uses the channel's outbound
    /// writer, which is safe to share; the inbound half stays with the task that reads actions.
    struct SessionWriter: @unchecked Sendable {
        let session: FakeAMISession

        func write(_ text: String) async throws { try await session.write(text) }
    }
}

/// One HTTP GET through libcurl on a thread of its own (not Swift's cooperative pool, which the
/// fake servers share), with how long the answer took.
enum HTTPProbe {
    struct Answer: Sendable {
        var status: Int
        var body: String
        var elapsed: Duration
    }

    static func get(_ url: String, timeout: Duration = .seconds(20)) async throws -> Answer {
        let request = CurlHTTPRequest(method: "GET", url: url, connectTimeout: .seconds(5), timeout: timeout)
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    let start = ContinuousClock.now
                    let response = try CurlHTTPClient().perform(request)
                    return Answer(status: response.status, body: String(decoding: response.body, as: UTF8.self), elapsed: ContinuousClock.now - start)
                })
            }.start()
        }
    }
}
