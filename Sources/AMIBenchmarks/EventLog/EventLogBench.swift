import AMITestSupport
import EventLog
import Foundation
import Logging

/// What `nats-publish` and `drill-ha` share: the cluster's configurations, a connection, a
/// stream created once JetStream answers, and blocking libnats calls kept off Swift's pool.
enum EventLogBench {
    /// deploy/nats-cluster's three node configurations, in the source tree this was built from.
    static var clusterConfigFiles: [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return (1...3).map { root.appendingPathComponent("deploy/nats-cluster/n\($0).conf").path }
    }

    static func connection(_ urls: [String], requestTimeout: Duration = .seconds(5)) async throws -> JetStreamConnection {
        var configuration = JetStreamConnection.Configuration()
        configuration.urls = urls
        configuration.name = "amibridge-bench"
        configuration.requestTimeout = requestTimeout
        configuration.reconnectWait = .milliseconds(100)
        return try await JetStreamConnection.connect(configuration: configuration, logger: Logger(label: "amibridge-bench"))
    }

    /// Creates `name` (file storage) taking `subjects`, retrying while a fresh cluster has no
    /// JetStream meta leader yet (at most 30 s).
    static func createStream(_ connection: JetStreamConnection, name: String, subjects: [String], replicas: Int) async throws {
        var stream = JetStreamConnection.StreamConfiguration()
        stream.name = name
        stream.subjects = subjects
        stream.replicas = replicas
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                try await connection.ensureStream(stream)
                return
            } catch {
                guard ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Runs blocking work (libnats publishes) on a thread of its own.
    static func onThread<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.name = "amibridge-bench.nats"
            thread.start()
        }
    }

    /// Seconds between two ``monotonicNanoseconds()`` readings.
    static func seconds(_ from: UInt64, _ to: UInt64) -> Double {
        to > from ? Double(to - from) / 1e9 : 0
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
