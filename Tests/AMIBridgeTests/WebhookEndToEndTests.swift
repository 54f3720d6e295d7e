import AMITestSupport
import Foundation
import NIOCore
import NIOPosix
import Testing

/// The whole path through the built binaries: a recorded call from a fake Asterisk, the daemon
/// following it, the outbox, libcurl, and `amibridge receive` checking each signature.
@Suite("Webhooks end to end")
struct WebhookEndToEndTests {
    /// A port nobody listens on right now.
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }

    @Test("a recorded call reaches the CRM as signed call_answered then call_complete webhooks")
    func recordedCall() async throws {
        let capture = try AMICapture.load("asterisk-20", "originate-answered")
        let replay = CaptureReplay(capture, chunking: .recorded, waitForActions: false)
        let secret = "e2e-\(UUID())"
        let hooksPort = try await Self.freePort()
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("amibridge-e2e-\(UUID())").path

        try await FakeAMIServer.withServer(behavior: replay.behavior) { server in
            let (receiver, receiverOutput, _) = try DaemonProcessTests.launch(["receive", "--port", String(hooksPort)], environment: ["RECEIVE_SECRET": secret])
            defer { receiver.terminate() }
            let receiverLines = DaemonProcessTests.lines(of: receiverOutput.fileHandleForReading)
            // No need to wait for the receiver to listen: a refused delivery is retried.
            let (daemon, _, _) = try DaemonProcessTests.launch(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: [
                "AMI_PORT": String(server.port), "AMI_USERNAME": "bridge", "AMI_SECRET": "s3cret-AMI", "AMI_AUTH": "plain",
                "STATE_DIR": state, "WEBHOOKS_ENDPOINTS": "crm", "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(hooksPort)/hooks",
                "WEBHOOKS_CRM_SECRET": secret, "WEBHOOKS_CRM_BACKOFF_INITIAL_MS": "50",
            ])
            defer { daemon.terminate() }

            let deliveries = try await withDeadline(.seconds(60)) {
                var deliveries: [String] = []
                for await line in receiverLines where !line.contains("listening") {
                    deliveries.append(line)
                    if line.contains("call_complete") { break }
                }
                return deliveries
            }
            #expect(deliveries.count == 2)
            #expect(deliveries.allSatisfy { $0.hasPrefix("signature ok  POST") })
            #expect(deliveries.first?.contains("POST call_answered") == true)
            #expect(deliveries.last?.contains("POST call_complete") == true)
            for line in deliveries {
                let json = try #require(line.firstIndex(of: "{").map { String(line[$0...]) })
                let body = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
                #expect(body["linkedid"] as? String == "1795615870.0")
                #expect(body["click2call_id"] as? String == "c2c-orig-1")
                #expect(body["phone_number"] as? String == "18005551234")
                // Absent values are null, never missing keys.
                #expect(body.keys.contains("lead_id"))
                #expect(body["lead_id"] is NSNull)
            }
            let complete = deliveries.last.flatMap { line in line.firstIndex(of: "{").map { String(line[$0...]) } } ?? ""
            #expect(complete.contains("\"hangup_cause\":16"))
        }
    }
}
