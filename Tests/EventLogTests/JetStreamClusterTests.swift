import AMITestSupport
import EventLog
import Foundation
import Logging
import Testing

/// deploy/nats-cluster's three nodes (their own configs, each with a temporary store) on loopback:
/// an R3 stream keeps acknowledging while one node is killed, and every acknowledged message is
/// there once, read back through a surviving node.
@Suite("JetStream cluster (deploy/nats-cluster)", .enabled(if: NATSServerProcess.isInstalled, "nats-server is not installed"), .serialized)
struct JetStreamClusterTests {
    static let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/nats-cluster")

    @Test("R3: SIGKILL one node mid-stream; publishes go on (retried on failure), each message stored once")
    func oneNodeDown() async throws {
        let nodes = (1...3).map { index in
            NATSServerProcess(name: "n\(index)", port: 4221 + index, configFile: Self.configs.appendingPathComponent("n\(index).conf").path)
        }
        // Each node's store_dir becomes a temporary directory; the rest of its config is used as is.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { try await node.start(timeout: .seconds(30)) } }
            try await group.waitForAll()
        }
        var configuration = JetStreamConnection.Configuration()
        configuration.urls = nodes.map(\.url)
        configuration.requestTimeout = .seconds(2)
        configuration.reconnectWait = .milliseconds(100)
        let connection = try JetStreamConnection(configuration: configuration, logger: Logger(label: "test"))
        var stream = JetStreamConnection.StreamConfiguration()
        stream.name = "DRILL"
        stream.replicas = 3
        // The cluster elects its JetStream meta leader after the routes are up: retry the creation meanwhile.
        let deadline = ContinuousClock.now + .seconds(30)
        var created: JetStreamConnection.StreamInfo?
        while created == nil, ContinuousClock.now < deadline {
            created = try? await connection.ensureStream(stream)
            if created == nil { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(created?.configuration.replicas == 3)

        let total = 300
        var retries = 0
        for index in 0..<total {
            if index == total / 2 { await nodes[1].stop() }
            // As the bridge does: a publish that fails is published again with the same id until acknowledged.
            while true {
                do {
                    _ = try await connection.publish(subject: "amibridge.dialer1.call_complete", body: Array("\(index)".utf8), msgID: "call-\(index)")
                    break
                } catch {
                    retries += 1
                    #expect(retries < 200, "\(error)")
                    if retries >= 200 { return }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        let messages = try await connection.messages(stream: "DRILL")
        #expect(messages.count == total, "retries: \(retries)")
        #expect(Set(messages.compactMap(\.msgID)).count == total)
        for node in nodes { await node.stop() }
    }
}
