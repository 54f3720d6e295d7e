import AMITestSupport
import Foundation
import Testing

/// SIGHUP reloads the webhook endpoints of a running daemon (the built binary).
@Suite("SIGHUP reloads webhook endpoints")
struct WebhookReloadTests {
    /// A whole configuration file; only the endpoints differ between versions.
    static func configuration(amiPort: Int, state: String, endpoints: [(name: String, port: Int)]) -> String {
        var text = """
        ami:
          name: dialer1
          host: 127.0.0.1
          port: \(amiPort)
          username: bridge
          auth: plain
          login_timeout_ms: 600000
        state_dir: \(state)
        api:
          listen: 127.0.0.1:0
        webhooks:
          endpoints: [\(endpoints.map(\.name).joined(separator: ", "))]

        """
        for endpoint in endpoints {
            text += "  \(endpoint.name):\n    url: http://127.0.0.1:\(endpoint.port)/hooks\n    backoff_initial_ms: 50\n"
        }
        return text
    }

    @Test("A, then A+B on SIGHUP; a broken file on SIGHUP is one error line and changes nothing; the call reaches A and B")
    func reload() async throws {
        let secret = "reload-\(UUID())"
        let (receiverA, portA) = try await ProcessUnderTest.receiver(secret: secret)
        defer { receiverA.process.terminate() }
        let (receiverB, portB) = try await ProcessUnderTest.receiver(secret: secret)
        defer { receiverB.process.terminate() }
        let directory = NSTemporaryDirectory() + "amibridge-reload-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/amibridge.yaml"
        let ami = try GatedReplay()

        try await FakeAMIServer.withServer(behavior: ami.behavior) { server in
            let state = directory + "/state"
            try Self.configuration(amiPort: server.port, state: state, endpoints: [("a", portA)]).write(toFile: path, atomically: true, encoding: .utf8)
            // Both secrets from the start: the environment is read once, the file on every SIGHUP.
            let daemon = try ProcessUnderTest(["run", "--config", path], environment: [
                "AMI_SECRET": "s3cret-AMI", "WEBHOOKS_A_SECRET": secret, "WEBHOOKS_B_SECRET": secret,
            ])
            defer { daemon.process.terminate() }
            try await withDeadline(.seconds(90)) {
                try await daemon.line(containing: "amibridge starting")

                try Self.configuration(amiPort: server.port, state: state, endpoints: [("a", portA), ("b", portB)])
                    .write(toFile: path, atomically: true, encoding: .utf8)
                daemon.signal(SIGHUP)
                let reloaded = try await daemon.line(containing: "webhook endpoints reloaded")
                #expect(reloaded.line.contains(#""added":"b""#) && reloaded.line.contains(#""endpoints":"a,b""#), "\(reloaded.line)")

                try "webhooks: [endpoints: {unclosed\n".write(toFile: path, atomically: true, encoding: .utf8)
                daemon.signal(SIGHUP)
                let refused = try await daemon.line(containing: "configuration not reloaded", after: reloaded.index)
                #expect(refused.line.contains(#""level":"error""#) && refused.line.contains(path), "\(refused.line)")

                ami.gate.open()
                for receiver in [receiverA, receiverB] {
                    try await receiver.line(containing: "POST call_complete")
                    let deliveries = receiver.output.lines.filter { $0.contains(" POST ") }
                    #expect(deliveries.count == 2 && deliveries.allSatisfy { $0.hasPrefix("signature ok") }, "\(deliveries)")
                }
                // Nothing else went wrong after the broken file: one error line, no second reload.
                let after = daemon.output.lines.dropFirst(reloaded.index + 1)
                #expect(after.filter { $0.contains(#""level":"error""#) }.count == 1, "\(after)")
                #expect(!after.contains { $0.contains("webhook endpoints reloaded") })
            }
            await daemon.stop()
            #expect(daemon.process.terminationStatus == 0)
        }
    }
}
