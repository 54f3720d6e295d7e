import CRMSink
import Configuration
import EventLog

extension NATSConfiguration {
    /// Nil (no event log) unless `nats.urls` is set: `NATS_URLS=nats://a:4222,nats://b:4222`
    /// from the environment; secrets `NATS_PASSWORD`, `NATS_TOKEN`.
    static func read(_ reader: ConfigReader) throws -> NATSConfiguration? {
        let values = ConfigValues(reader: reader).scoped("nats")
        let urls = values.stringArray("urls")
        // Read every key even when off, so a file that sets them without urls is not an "unknown key" error.
        var connection = JetStreamConnection.Configuration()
        connection.urls = urls
        connection.name = try values.string("connection_name", default: connection.name)
        connection.credentialsFile = try values.optionalString("credentials_file", default: nil)
        connection.user = try values.optionalString("user", default: nil)
        connection.password = try values.secret("password")
        connection.token = try values.secret("token")
        connection.tls = try values.bool("tls", default: false)
        connection.tlsCAFile = try values.optionalString("tls_ca_file", default: nil)
        connection.connectTimeout = try values.duration("connect_timeout_ms", default: connection.connectTimeout)
        connection.reconnectWait = try values.duration("reconnect_wait_ms", default: connection.reconnectWait)
        var stream = JetStreamConnection.StreamConfiguration()
        stream.name = try values.string("stream", default: stream.name)
        let prefix = try values.string("subject_prefix", default: "amibridge")
        guard !prefix.isEmpty, !prefix.contains(where: { " *>\t".contains($0) }), !prefix.hasPrefix("."), !prefix.hasSuffix(".") else {
            throw ConfigurationError(key: values.path("subject_prefix"), problem: "'\(prefix)' is not a NATS subject prefix (no spaces, * or >)")
        }
        guard !stream.name.isEmpty, !stream.name.contains(where: { " .*>\t/\\".contains($0) }) else {
            throw ConfigurationError(key: values.path("stream"), problem: "'\(stream.name)' is not a JetStream stream name")
        }
        stream.subjects = ["\(prefix).>"]
        stream.replicas = try values.int("replicas", default: 1, range: 1...5)
        stream.duplicateWindow = .seconds(try values.int("duplicate_window_seconds", default: 1800, range: 1...604_800))
        let maxAgeHours = try values.int("max_age_hours", default: 168, range: 0...87_600)
        stream.maxAge = maxAgeHours == 0 ? nil : .seconds(maxAgeHours * 3600)
        var configuration = NATSConfiguration(connection: connection, stream: stream, route: EventLogRoute(subjectPrefix: prefix))
        configuration.publishTimeout = try values.duration("publish_timeout_ms", default: configuration.publishTimeout)
        connection.requestTimeout = configuration.publishTimeout
        configuration.connection = connection
        configuration.manageStream = try values.bool("manage_stream", default: true)
        configuration.publishWindow = try values.int("publish_window", default: 1, range: 1...1024)
        configuration.deliver.lanes = try values.int("deliver_lanes", default: configuration.deliver.lanes, range: 1...64)
        configuration.deliver.ackWait = .milliseconds(try values.int("deliver_ack_wait_ms", default: 30_000, range: 1000...3_600_000))
        configuration.deliver.maxAckPending = try values.int("deliver_max_ack_pending", default: configuration.deliver.maxAckPending, range: 1...1_000_000)
        let mode = try values.string("deliver_mode", default: configuration.deliver.mode.rawValue)
        guard let deliverMode = EventLogDeliverer.Configuration.Mode(rawValue: mode) else {
            throw ConfigurationError(key: values.path("deliver_mode"), problem: "'\(mode)' is not ordered or shared")
        }
        configuration.deliver.mode = deliverMode
        configuration.deliver.leaseTTL = .milliseconds(try values.int("deliver_lease_ttl_ms", default: 10_000, range: 1000...600_000))
        configuration.deliver.replicas = stream.replicas
        return urls.isEmpty ? nil : configuration
    }
}
