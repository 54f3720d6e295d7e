@testable import AMIBridge
import AMITestSupport
import CRMSink
import EventLog
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOHTTP1
import ServiceLifecycle
import Testing

/// Webhooks delivered from the event log (`amibridge deliver`): a real nats-server with JetStream,
/// events published as the bridge publishes them, a real HTTP receiver on 127.0.0.1 and the real
/// libcurl, the deliverer in process (its threads and the consumer are the product's).
@Suite("Delivery from the event log", .enabled(if: NATSServerProcess.isInstalled, "nats-server is not installed"), .serialized)
struct EventLogDeliveryTests {
    /// One event as the bridge publishes it: the webhook body, under `amibridge.dialer1.<event>`.
    struct Event {
        var name: String
        var call: String
        var id = UUID().uuidString.lowercased()

        var subject: String { "amibridge.dialer1.\(name)" }
        var body: [UInt8] {
            Array(#"{"event":"\#(name)","event_id":"\#(id)","server":"dialer1","linkedid":"\#(call)","campaign_id":"SALES"}"#.utf8)
        }
    }

    /// `calls` calls of three events each, published call by call interleaved (answered of every
    /// call, then every complete, then every disposition), as a busy dialer's stream looks.
    static func publish(_ calls: [String], into stream: String, on connection: JetStreamConnection) throws -> [Event] {
        var stream_ = JetStreamConnection.StreamConfiguration()
        stream_.name = stream
        try connection.ensureStreamBlocking(stream_)
        var events: [Event] = []
        for name in ["call_answered", "call_complete", "disposition_set"] {
            for call in calls {
                let event = Event(name: name, call: call)
                _ = try connection.publishBlocking(subject: event.subject, body: event.body, msgID: event.id)
                events.append(event)
            }
        }
        return events
    }

    static func connection(_ nats: NATSServerProcess) throws -> JetStreamConnection {
        var configuration = JetStreamConnection.Configuration()
        configuration.urls = [nats.url]
        configuration.reconnectWait = .milliseconds(200)
        return try JetStreamConnection(configuration: configuration, logger: Logger(label: "test"))
    }

    static func endpoint(port: Int) throws -> WebhookEndpoint.Configuration {
        try WebhookEndpoint.Configuration(
            name: "crm", url: "http://127.0.0.1:\(port)/hooks", secret: "deliver-test", timeout: .seconds(5), maxAttempts: 5,
            backoffInitial: .milliseconds(50), backoffCap: .milliseconds(100)
        )
    }

    static func deliverer(
        _ connection: JetStreamConnection, stream: String, port: Int, deadLetters: Outbox, mode: EventLogDeliverer.Configuration.Mode = .ordered
    ) throws -> EventLogDeliverer {
        var configuration = EventLogDeliverer.Configuration()
        configuration.mode = mode
        configuration.leaseTTL = .seconds(1)
        configuration.lanes = 2
        configuration.fetchTimeout = .milliseconds(200)
        configuration.ackWait = .seconds(2)
        return EventLogDeliverer(
            connection: connection, stream: stream, endpoints: [try endpoint(port: port)], deadLetters: deadLetters,
            configuration: configuration, logger: Logger(label: "test.deliver")
        )
    }

    /// What the receiver answered, per event id, in the order requests came.
    final class Answers: Sendable {
        private let box = NIOLockedValueBox<[(id: String, status: Int)]>([])
        func record(_ id: String, _ status: Int) { box.withLockedValue { $0.append((id, status)) } }
        var all: [(id: String, status: Int)] { box.withLockedValue { $0 } }
        func count(_ id: String) -> Int { all.filter { $0.id == id }.count }
    }

    /// Runs `deliverers` until `done` says the receiver has everything, then shuts them down.
    static func run(_ deliverers: [EventLogDeliverer], until done: @escaping @Sendable () async throws -> Void) async throws {
        let group = ServiceGroup(configuration: .init(services: deliverers.map { .init(service: $0) }, logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await withDeadline(.seconds(60)) { try await done() }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test("each event once, a call's events in stream order, a 500 retried in place, a 400 a dead letter kept and terminated")
    func deliversInOrderWithRetriesAndDeadLetters() async throws {
        let nats = NATSServerProcess()
        try await nats.start()
        let connection = try Self.connection(nats)
        let events = try Self.publish(["c1", "c2", "c3", "c4"], into: "DELIVER", on: connection)
        let flaky = events.first { $0.call == "c2" && $0.name == "call_answered" }!.id
        let rejected = events.first { $0.call == "c3" && $0.name == "call_complete" }!.id
        let answers = Answers()
        let receiver = try await RecordingHTTPServer.start(.script { request in
            let id = request.headers.first(name: WebhookSignature.deliveryHeader) ?? ""
            let status: HTTPResponseStatus = id == rejected ? .badRequest : (id == flaky && answers.count(id) < 2 ? .internalServerError : .ok)
            answers.record(id, Int(status.code))
            return (.respond(status: status), .zero)
        })
        let state = NSTemporaryDirectory() + "amibridge-deliver-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: state) }
        let deadLetters = try Outbox(stateDirectory: state)
        let deliverer = try Self.deliverer(connection, stream: "DELIVER", port: receiver.port, deadLetters: deadLetters)
        let expected = Set(events.map(\.id))
        try await Self.run([deliverer]) { try await Self.awaitRequests(receiver, covering: expected, settledBy: { $0 != flaky }) }

        let all = answers.all
        for event in events {
            let tries = all.filter { $0.id == event.id }.map(\.status)
            switch event.id {
            case flaky: #expect(tries == [500, 500, 200], "the 500s retried, then delivered once")
            case rejected: #expect(tries == [400], "a 400 is not retried")
            default: #expect(tries == [200], "\(event.name) of \(event.call): delivered once")
            }
        }
        // Per call, what reached the receiver came in the stream's order: the retried answer of
        // c2 held its call's later events back.
        for call in ["c1", "c2", "c3", "c4"] {
            let order = events.filter { $0.call == call }.map(\.id)
            let delivered = all.filter { order.contains($0.id) }.map(\.id).reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
            #expect(delivered == order, "call \(call): \(delivered)")
        }
        let dead = try deadLetters.list(OutboxSelection(states: [.dead]), limit: 10)
        #expect(dead.map { $0.eventID.uuidString.lowercased() } == [rejected])
        #expect(dead.first?.lastStatus == 400 && dead.first?.endpoint == "crm" && dead.first?.callKey == "dialer1/c3")

        // Nothing left for the consumer: all acknowledged or terminated.
        let consumer = try JetStreamConsumer(connection: connection, configuration: {
            var configuration = JetStreamConsumer.Configuration(durable: EventLogDeliverer.consumerName("crm"))
            configuration.stream = "DELIVER"
            configuration.ackWait = .seconds(2)
            return configuration
        }())
        let settled = try await eventually { try consumer.stateBlocking() }
        #expect(settled.pending == 0 && settled.ackPending == 0)
        try await receiver.shutdown()
        await nats.stop()
    }

    @Test("shared mode, two deliverers fetching from one consumer: every event delivered exactly once between them")
    func twoDeliverersShareTheConsumer() async throws {
        let nats = NATSServerProcess()
        try await nats.start()
        let publisher = try Self.connection(nats)
        let events = try Self.publish((1...100).map { "call\($0)" }, into: "SHARED", on: publisher)
        let answers = Answers()
        let receiver = try await RecordingHTTPServer.start(.script { request in
            answers.record(request.headers.first(name: WebhookSignature.deliveryHeader) ?? "", 200)
            return (.respond(status: .ok), .zero)
        })
        let state = NSTemporaryDirectory() + "amibridge-deliver-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: state) }
        let deadLetters = try Outbox(stateDirectory: state)
        let deliverers = try (0..<2).map { _ in
            try Self.deliverer(try Self.connection(nats), stream: "SHARED", port: receiver.port, deadLetters: deadLetters, mode: .shared)
        }
        let expected = Set(events.map(\.id))
        try await Self.run(deliverers) { try await Self.awaitRequests(receiver, covering: expected) }
        let counts = Dictionary(grouping: answers.all.map(\.id), by: { $0 }).mapValues(\.count)
        #expect(counts.count == events.count)
        #expect(counts.values.allSatisfy { $0 == 1 }, "duplicates: \(counts.filter { $0.value > 1 })")
        try await receiver.shutdown()
        await nats.stop()
    }

    /// Returns once the receiver has had a request for every id of `expected`, and for `flaky`
    /// ids (answered 500 twice) a third one. Counts from the requests themselves: the receiver
    /// yields a request before its script records the answer.
    static func awaitRequests(
        _ receiver: RecordingHTTPServer, covering expected: Set<String>, settledBy firstTry: @escaping @Sendable (String) -> Bool = { _ in true }
    ) async throws {
        var seen: [String: Int] = [:]
        for await request in receiver.requests {
            seen[request.headers.first(name: WebhookSignature.deliveryHeader) ?? "", default: 0] += 1
            if expected.allSatisfy({ seen[$0, default: 0] >= (firstTry($0) ? 1 : 3) }) { return }
        }
    }

    /// Polls `read` until `accept` holds or 10 s pass (the server applies a terminate asynchronously).
    func eventually(_ read: () throws -> JetStreamConsumer.State) async throws -> JetStreamConsumer.State {
        let deadline = ContinuousClock.now + .seconds(10)
        var state = try read()
        while (state.pending > 0 || state.ackPending > 0) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            state = try read()
        }
        return state
    }
}

/// `amibridge deliver` as it runs in production: the built binary, two of them on one consumer.
@Suite("amibridge deliver (process)", .enabled(if: NATSServerProcess.isInstalled, "nats-server is not installed"), .serialized)
struct DeliverCommandTests {
    static func deliver(nats: NATSServerProcess, stream: String, receiverPort: Int, state: String, arguments: [String] = []) throws -> ProcessUnderTest {
        try ProcessUnderTest(["deliver", "--config", DaemonProcessTests.exampleConfig.path] + arguments, environment: [
            "STATE_DIR": state, "LOG_LEVEL": "info", "WEBHOOKS_ENDPOINTS": "crm", "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiverPort)/hooks",
            "WEBHOOKS_CRM_TIMEOUT_MS": "60000", "NATS_URLS": nats.url, "NATS_STREAM": stream, "NATS_DELIVER_ACK_WAIT_MS": "1000",
            "NATS_RECONNECT_WAIT_MS": "200", "NATS_DELIVER_LEASE_TTL_MS": "1000",
        ])
    }

    @Test("SIGKILL the deliverer holding a message: the other one delivers it after the ack wait; a dead letter is listed by outbox list")
    func killedHolderIsRedelivered() async throws {
        let nats = NATSServerProcess()
        try await nats.start()
        let publisher = try EventLogDeliveryTests.connection(nats)
        let events = try EventLogDeliveryTests.publish((1...10).map { "call\($0)" }, into: "KILL", on: publisher)
        let held = events[0].id
        let rejected = events[5].id
        // The first request for `held` is never answered: its deliverer is killed while it waits.
        let heldOnce = NIOLockedValueBox(false)
        let receiver = try await RecordingHTTPServer.start(.script { request in
            let id = request.headers.first(name: WebhookSignature.deliveryHeader) ?? ""
            if id == held, !heldOnce.withLockedValue({ held in defer { held = true }; return held }) { return (.neverRespond, .zero) }
            return (.respond(status: id == rejected ? .badRequest : .ok), .zero)
        })
        let states = (0..<2).map { _ in NSTemporaryDirectory() + "amibridge-deliver-" + UUID().uuidString }
        defer { for state in states { try? FileManager.default.removeItem(atPath: state) } }

        let first = try Self.deliver(nats: nats, stream: "KILL", receiverPort: receiver.port, state: states[0])
        let (seen, second) = try await withDeadline(.seconds(90)) { () async throws -> ([String: Int], ProcessUnderTest?) in
            var seen: [String: Int] = [:]
            var second: ProcessUnderTest?
            for await request in receiver.requests {
                let id = request.headers.first(name: WebhookSignature.deliveryHeader) ?? ""
                seen[id, default: 0] += 1
                if id == held, second == nil {
                    // The first process now holds `held`, waiting for an answer that never comes.
                    first.signal(SIGKILL)
                    await ChildProcess.waitForExit(first.process)
                    second = try Self.deliver(
                        nats: nats, stream: "KILL", receiverPort: receiver.port, state: states[1], arguments: ["--metrics-listen", "127.0.0.1:0"]
                    )
                }
                if seen[held, default: 0] >= 2 && events.allSatisfy({ seen[$0.id, default: 0] >= 1 }) { break }
            }
            return (seen, second)
        }
        let survivor = try #require(second)
        #expect(seen[held] == 2, "the held message went out again, once")
        #expect(events.allSatisfy { seen[$0.id, default: 0] >= 1 }, "every event reached the receiver")
        // Its /metrics: nothing left for the consumer, and what it delivered.
        let line = try await survivor.line(containing: "metrics listening").line
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        let port = try #require((object?["port"] as? String).flatMap { Int($0) })
        let lag = #"amibridge_nats_consumer_pending{endpoint="crm"}"#
        var scrape = try DaemonMetricsTests.scrape(port: port)
        let deadline = ContinuousClock.now + .seconds(10)
        while DaemonMetricsTests.value(lag, in: scrape) != 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200)) // the gauge is set at each fetch
            scrape = try DaemonMetricsTests.scrape(port: port)
        }
        #expect(DaemonMetricsTests.value(lag, in: scrape) == 0)
        #expect((DaemonMetricsTests.value(#"amibridge_webhook_deliveries_total{endpoint="crm",result="delivered"}"#, in: scrape) ?? 0) >= 1)
        await survivor.stop()
        #expect(survivor.process.terminationStatus == 0)

        // amibridge check's nats line names the endpoint's consumer and its lag.
        let closed = try ClosedPort()
        let check = try await ProcessUnderTest.run(["check", "--config", DaemonProcessTests.exampleConfig.path, "--timeout", "10"], environment: [
            "AMI_SECRET": "unused", "AMI_PORT": String(closed.port), "NATS_URLS": nats.url, "NATS_STREAM": "KILL",
            "WEBHOOKS_ENDPOINTS": "crm", "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiver.port)/hooks", "STATE_DIR": states[1],
        ])
        #expect(check.lines.contains { $0.hasPrefix("✓ nats: ") && $0.hasSuffix("; consumer amibridge-crm: 0 pending, 0 unacknowledged") }, "\(check.lines)")

        // The rejected event is a dead letter of whichever process tried it, listed by the CLI.
        var listed: [String] = []
        for state in states {
            let list = try await ProcessUnderTest.run(["outbox", "list", "--state-dir", state + "/deliver", "--state", "dead"], environment: [:])
            listed += list.lines.filter { $0.contains(rejected) }
        }
        #expect(listed.count == 1, "\(listed)")
        #expect(listed.first?.contains("\tdead\tcrm\tcall_answered\t\(rejected)\tdialer1/call6\t") == true, "\(listed)")
        #expect(listed.first?.contains("\t400\tHTTP 400") == true, "\(listed)")
        try await receiver.shutdown()
        await nats.stop()
    }

    @Test("ordered: one deliver process active, one standing by; the active one SIGKILLed holding a message: the other takes over, every call's events in stream order")
    func orderedTakeoverKeepsEveryCallInOrder() async throws {
        let nats = NATSServerProcess()
        try await nats.start()
        let publisher = try EventLogDeliveryTests.connection(nats)
        let before = try EventLogDeliveryTests.publish((1...10).map { "early\($0)" }, into: "ORDERED", on: publisher)
        // call_answered of early3: its first request is never answered, so its process holds it when killed.
        let held = before.first { $0.call == "early3" && $0.name == "call_answered" }!.id
        let heldOnce = NIOLockedValueBox(false)
        let receiver = try await RecordingHTTPServer.start(.script { request in
            let id = request.headers.first(name: WebhookSignature.deliveryHeader) ?? ""
            if id == held, !heldOnce.withLockedValue({ held in defer { held = true }; return held }) { return (.neverRespond, .zero) }
            return (.respond(status: .ok), .zero)
        })
        let states = (0..<2).map { _ in NSTemporaryDirectory() + "amibridge-deliver-" + UUID().uuidString }
        defer { for state in states { try? FileManager.default.removeItem(atPath: state) } }
        let active = try Self.deliver(nats: nats, stream: "ORDERED", receiverPort: receiver.port, state: states[0])
        try await active.line(containing: "this process now delivers the endpoint")
        let standby = try Self.deliver(nats: nats, stream: "ORDERED", receiverPort: receiver.port, state: states[1])
        try await standby.line(containing: "delivering from the event log")

        let after = NIOLockedValueBox<[EventLogDeliveryTests.Event]>([])
        let answered = try await withDeadline(.seconds(90)) { () async throws -> [String] in
            var answered: [String] = []
            var killed = false
            for await request in receiver.requests {
                let id = request.headers.first(name: WebhookSignature.deliveryHeader) ?? ""
                if id == held, !killed {
                    killed = true
                    active.signal(SIGKILL)
                    await ChildProcess.waitForExit(active.process)
                    // More calls while nobody delivers; the standby must take over and send them after the held one.
                    // And a later event of the held call itself: it must wait for the held one.
                    var more = try EventLogDeliveryTests.publish((1...10).map { "late\($0)" }, into: "ORDERED", on: publisher)
                    let followUp = EventLogDeliveryTests.Event(name: "user_event", call: "early3")
                    _ = try publisher.publishBlocking(subject: followUp.subject, body: followUp.body, msgID: followUp.id)
                    more.append(followUp)
                    after.withLockedValue { $0 = more }
                    continue
                }
                answered.append(id)
                let expected = before + after.withLockedValue { $0 }
                if killed, expected.allSatisfy({ answered.contains($0.id) }) { break }
            }
            return answered
        }
        #expect(standby.output.lines.contains { $0.contains("this process now delivers the endpoint") }, "the standby took over")
        let all = before + after.withLockedValue { $0 }
        #expect(all.allSatisfy { answered.contains($0.id) }, "every event delivered")
        for call in Set(all.map(\.call)) {
            let order = all.filter { $0.call == call }.map(\.id)
            let delivered = answered.filter { order.contains($0) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            #expect(delivered == order, "call \(call) out of order: \(delivered) vs \(order)")
        }
        await standby.stop()
        #expect(standby.process.terminationStatus == 0)
        try await receiver.shutdown()
        await nats.stop()
    }

    @Test("a file made for deliver alone (no ami section) runs; an endpoint the stream cannot serve, or no nats.urls, is exit 78 naming the key")
    func configurationOfItsOwn() async throws {
        let nats = NATSServerProcess()
        try await nats.start()
        let directory = NSTemporaryDirectory() + "amibridge-deliver-config-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func write(_ name: String, _ text: String) throws -> String {
            let path = directory + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let own = try write("deliver.yaml", """
            state_dir: \(directory)/state
            webhooks:
              endpoints: [crm]
              crm:
                url: http://127.0.0.1:9/hooks
            nats:
              urls: [\(nats.url)]
              stream: OWN
            """)
        // Only the secret-free environment a deliver host would have: no AMI_* at all.
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]
        let deliver = try ProcessUnderTest(["deliver", "--config", own], environment: environment)
        try await deliver.line(containing: "amibridge deliver starting")
        await deliver.stop()
        #expect(deliver.process.terminationStatus == 0, "\(deliver.errors.lines)")

        let template = try write("template.yaml", """
            state_dir: \(directory)/state
            webhooks:
              endpoints: [dispo]
              dispo:
                url: "VARhttp://127.0.0.1:9/dispo.php?lead=--A--lead_id--B--"
                format: vicidial-template
            nats:
              urls: [\(nats.url)]
            """)
        let refused = try await ProcessUnderTest.run(["deliver", "--config", template], environment: environment)
        #expect(refused.status == 78)
        #expect(refused.errors.contains { $0.hasPrefix("amibridge: webhooks.dispo: format vicidial-template is delivered from the bridge's outbox only") }, "\(refused.errors)")

        let noNATS = try write("nonats.yaml", """
            state_dir: \(directory)/state
            webhooks:
              endpoints: [crm]
              crm:
                url: http://127.0.0.1:9/hooks
            """)
        let missing = try await ProcessUnderTest.run(["deliver", "--config", noNATS], environment: environment)
        #expect(missing.status == 78)
        #expect(missing.errors.contains { $0.hasPrefix("amibridge: nats.urls:") }, "\(missing.errors)")
        await nats.stop()
    }
}
