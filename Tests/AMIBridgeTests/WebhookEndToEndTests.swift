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
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("amibridge-e2e-\(UUID())").path

        try await FakeAMIServer.withServer(behavior: replay.behavior) { server in
            // The receiver picks its own port and names it, so no other test can take it first.
            let (receiver, receiverOutput, _) = try DaemonProcessTests.launch(["receive", "--port", "0", "--json"], environment: ["RECEIVE_SECRET": secret])
            defer { receiver.terminate() }
            let receiverLines = ChildProcess.lines(of: receiverOutput.fileHandleForReading)
            let daemon = ChildProcessBox()
            defer { daemon.terminate() }

            let deliveries = try await withDeadline(.seconds(60)) {
                var deliveries: [String] = []
                for await line in receiverLines {
                    if let port = Self.listeningPort(line) {
                        try daemon.start(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: [
                            "AMI_PORT": String(server.port), "AMI_USERNAME": "bridge", "AMI_SECRET": "s3cret-AMI", "AMI_AUTH": "plain",
                            "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0", "WEBHOOKS_ENDPOINTS": "crm",
                            "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(port)/hooks", "WEBHOOKS_CRM_SECRET": secret,
                            "WEBHOOKS_CRM_BACKOFF_INITIAL_MS": "50",
                        ])
                        continue
                    }
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

    /// The port in `amibridge receive: listening on http://127.0.0.1:PORT/ ...`.
    static func listeningPort(_ line: String) -> Int? {
        guard line.contains("listening on"), let range = line.range(of: "127.0.0.1:") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}

/// A child process started from inside a task and stopped when the test ends.
final class ChildProcessBox: @unchecked Sendable {
    // Written once from the reading task, read by the test's defer after that task is done.
    private var process: Process?

    func start(_ arguments: [String], environment: [String: String]) throws {
        process = try DaemonProcessTests.launch(arguments, environment: environment).0
    }

    func terminate() { process?.terminate() }
}
