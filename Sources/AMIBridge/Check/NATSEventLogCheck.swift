import EventLog
import Logging

extension DependencyCheck {
    /// `nats`: connects to the configured servers and looks up the stream: there, with the
    /// configured subjects, replicas and duplicate window (a difference is a failure: the daemon
    /// would update a stream it manages, and publishes to one it does not manage might not be
    /// deduplicated as configured). A missing stream passes when the daemon manages it (it creates
    /// it at start) and fails otherwise. Never creates or changes anything. For each of `endpoints`
    /// whose `amibridge deliver` consumer exists, its lag and unacknowledged count.
    static func natsEventLog(_ configuration: NATSConfiguration, endpoints: [String] = []) -> DependencyCheck {
        DependencyCheck(name: "nats") {
            let connection: JetStreamConnection
            do {
                connection = try await JetStreamConnection.connect(configuration: configuration.connection, logger: Logger(label: "amibridge.check"))
            } catch {
                return .failed("\(error)")
            }
            // The connection starts in the background when no server answers at once: give it the connect timeout.
            let deadline = ContinuousClock.now + configuration.connection.connectTimeout + .milliseconds(500)
            while !connection.isConnected, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            guard connection.isConnected else {
                return .failed("no NATS server answers at \(configuration.connection.urls.joined(separator: ", "))")
            }
            let server = connection.connectedURL ?? configuration.connection.urls.joined(separator: ",")
            let wanted = configuration.stream
            do {
                guard let info = try await connection.streamInfo(wanted.name) else {
                    return configuration.manageStream
                        ? .passed("connected to \(server); stream \(wanted.name) missing: the daemon creates it (R\(wanted.replicas))")
                        : .failed("connected to \(server); stream \(wanted.name) does not exist (nats.manage_stream is off)")
                }
                var differences: [String] = []
                if info.configuration.subjects != wanted.subjects { differences.append("subjects \(info.configuration.subjects) (want \(wanted.subjects))") }
                if info.configuration.replicas != wanted.replicas { differences.append("replicas \(info.configuration.replicas) (want \(wanted.replicas))") }
                if info.configuration.duplicateWindow != wanted.duplicateWindow {
                    differences.append("duplicate window \(info.configuration.duplicateWindow) (want \(wanted.duplicateWindow))")
                }
                if info.configuration.memoryStorage { differences.append("memory storage (want file)") }
                let cluster = info.cluster.map { ", cluster \($0) leader \(info.leader ?? "none")" } ?? ""
                guard differences.isEmpty else {
                    return .failed("stream \(wanted.name) differs: " + differences.joined(separator: "; ")
                        + (configuration.manageStream ? " (the daemon updates it at start)" : ""))
                }
                var consumers = ""
                for endpoint in endpoints {
                    let durable = EventLogDeliverer.consumerName(endpoint)
                    if let state = try await connection.consumerState(stream: wanted.name, durable: durable) {
                        consumers += "; consumer \(durable): \(state.pending) pending, \(state.ackPending) unacknowledged"
                    }
                }
                return .passed("connected to \(server); stream \(wanted.name) R\(info.configuration.replicas), \(info.messages) messages\(cluster)\(consumers)")
            } catch {
                return .failed("connected to \(server); stream \(wanted.name): \(error)")
            }
        }
    }
}
