import AMITestSupport
import CRMSink
import Foundation
import NIOCore
import NIOPosix
import Testing

/// SIGTERM while twenty calls' webhooks are failing against a broken CRM: the daemon exits
/// cleanly, every owed webhook is still in the outbox, and the next start delivers each one.
@Suite("Graceful shutdown under load")
struct GracefulShutdownTests {
    /// A "CRM" that answers every connection with garbage and hangs up.
    static func garbageServer() async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.writeAndFlush(ByteBuffer(string: "garbage\r\n\r\n")).flatMap { channel.close() }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    @Test("SIGTERM under load loses no webhook")
    func sigtermLosesNothing() async throws {
        let burst = CaptureReplay(try AMICapture.load("asterisk-20", "burst-20-calls"), chunking: .recorded, waitForActions: false)
        let secret = "shutdown-\(UUID())"
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("amibridge-sigterm-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let broken = try await Self.garbageServer()
        defer { broken.close(promise: nil) }

        // The first session carries the twenty calls; after the restart Asterisk is quiet.
        let behavior: FakeAMIServer.Behavior = { session in
            if session.index == 0 { try await burst.behavior(&session) } else { try await FakeAMIServer.asterisk()(&session) }
        }
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            var environment = [
                "AMI_PORT": String(server.port), "AMI_USERNAME": "bridge", "AMI_SECRET": "s3cret-AMI", "AMI_AUTH": "plain",
                "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0", "WEBHOOKS_ENDPOINTS": "crm", "WEBHOOKS_CRM_SECRET": secret,
                "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(broken.localAddress!.port!)/hooks", "WEBHOOKS_CRM_BACKOFF_INITIAL_MS": "20", "WEBHOOKS_CRM_BACKOFF_MAX_MS": "500",
            ]
            let first = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: environment)
            defer { first.process.terminate() }
            // All twenty calls tracked, and deliveries failing and being retried as we stop.
            var index = -1
            for _ in 1...20 { index = try await first.line(containing: "\"call complete\"", after: index).index }
            try await first.line(containing: "delivery failed; will retry")
            await first.stop()
            #expect(first.process.terminationStatus == 0)

            let owed = try Outbox(stateDirectory: state).list(OutboxSelection(states: [.pending, .inFlight, .waitingToRetry]), limit: 10_000)
            let owedIDs = Set(owed.map { $0.eventID.uuidString.lowercased() })
            #expect(owed.count >= 20, "every call_complete at least is owed")
            #expect(owed.filter { $0.event == "call_complete" }.count == 20)

            // The CRM is fixed (a new address): the next start delivers everything owed.
            let (receiver, port) = try await ProcessUnderTest.receiver(secret: secret)
            defer { receiver.process.terminate() }
            environment["WEBHOOKS_CRM_URL"] = "http://127.0.0.1:\(port)/hooks"
            let second = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: environment)
            defer { second.process.terminate() }

            var delivered = Set<String>()
            while delivered.count < owedIDs.count {
                let known = delivered
                let line = try #require(try await receiver.output.first { line in
                    guard let id = Self.eventID(line) else { return false }
                    return !known.contains(id)
                }).line
                #expect(line.hasPrefix("signature ok"))
                delivered.insert(Self.eventID(line)!)
            }
            #expect(delivered == owedIDs)
            await second.stop()
        }
    }

    /// The `event_id` of a receiver line's JSON body.
    static func eventID(_ line: String) -> String? {
        guard let brace = line.firstIndex(of: "{"),
              let body = try? JSONSerialization.jsonObject(with: Data(line[brace...].utf8)) as? [String: Any] else { return nil }
        return body["event_id"] as? String
    }
}
