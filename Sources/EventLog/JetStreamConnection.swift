import CNats
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix

/// One connection to a NATS cluster with JetStream, through libnats: it owns the `natsConnection`
/// and `jsCtx` handles and frees them when released.
///
/// libnats is thread-safe and does its own socket I/O on threads of its own; its calls block the
/// caller until the server answers (or a timeout). So the `...Blocking` methods are for callers on
/// a thread of their own (the event-log publisher), and the async ones run the same work on this
/// connection's own thread, never on an event loop or Swift's cooperative pool.
///
/// The client reconnects by itself, forever, to any server of the cluster (including when none
/// answers at start: `connect` then returns a connection that is not yet connected, and requests
/// fail with ``JetStreamError/Code/notConnected`` or a timeout until one does).
public final class JetStreamConnection: @unchecked Sendable {
    // @unchecked: the handles are raw C pointers, set once in init and freed in deinit; libnats
    // makes sharing them between threads safe.
    public let configuration: Configuration
    private let connection: OpaquePointer
    /// The JetStream context (``JetStreamConsumer`` subscribes through it).
    let jetStream: OpaquePointer
    /// A second context whose ack handler collects pipelined publishes' acks (``publishBatchBlocking(_:timeout:)``).
    let asyncAcks: AsyncPublishContext
    private let thread: NIOThreadPool
    private let logger: Logger

    /// Starts connecting; returns at once if no server answers yet (it keeps trying in the background).
    /// Throws only for a configuration libnats refuses (a bad URL, an unreadable credentials file).
    public init(configuration: Configuration, logger: Logger) throws(JetStreamError) {
        Self.openLibrary
        self.configuration = configuration
        self.logger = logger
        var options: OpaquePointer?
        try Self.check(natsOptions_Create(&options), .configuration, "create NATS options")
        defer { natsOptions_Destroy(options) }
        try Self.apply(configuration, to: options)
        var connection: OpaquePointer?
        let status = natsConnection_Connect(&connection, options)
        guard status == NATS_OK || status == NATS_NOT_YET_CONNECTED, let connection else {
            throw JetStreamError(.connect, "connect to \(configuration.urls.joined(separator: ","))", status: status)
        }
        if status == NATS_NOT_YET_CONNECTED {
            logger.warning("NATS not reachable yet; connecting in the background", metadata: ["urls": "\(configuration.urls.joined(separator: ","))"])
        }
        var jsOptions = jsOptions()
        jsOptions_Init(&jsOptions)
        jsOptions.Wait = Self.milliseconds(configuration.requestTimeout)
        var jetStream: OpaquePointer?
        let jsStatus = natsConnection_JetStream(&jetStream, connection, &jsOptions)
        guard jsStatus == NATS_OK, let jetStream else {
            natsConnection_Destroy(connection)
            throw JetStreamError(.connect, "open the JetStream context", status: jsStatus)
        }
        do {
            self.asyncAcks = try AsyncPublishContext(connection: connection, requestTimeout: jsOptions.Wait)
        } catch {
            jsCtx_Destroy(jetStream)
            natsConnection_Destroy(connection)
            throw error
        }
        self.connection = connection
        self.jetStream = jetStream
        self.thread = NIOThreadPool(numberOfThreads: 1)
        self.thread.start()
    }

    /// ``init(configuration:logger:)`` on a thread of its own: the first connect attempt blocks for
    /// up to the connect timeout per server when a server does not answer (refused is immediate).
    public static func connect(configuration: Configuration, logger: Logger) async throws -> JetStreamConnection {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                Thread.current.name = "amib.nats.conn"
                continuation.resume(with: Result { () throws(JetStreamError) in try JetStreamConnection(configuration: configuration, logger: logger) })
            }
            thread.start()
        }
    }

    deinit {
        jsCtx_Destroy(jetStream)
        natsConnection_Close(connection)
        natsConnection_Destroy(connection)
        thread.shutdownGracefully { _ in }
    }

    /// libnats's library-wide state, opened once (`nats_Open(-1)`: its default lock spin count).
    private static let openLibrary: Void = { _ = nats_Open(-1) }()

    /// Whether a server of the cluster is connected now (not reconnecting, not closed).
    public var isConnected: Bool { natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED }

    /// The connected server's URL, if any.
    public var connectedURL: String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard natsConnection_GetConnectedUrl(connection, &buffer, buffer.count) == NATS_OK, buffer[0] != 0 else { return nil }
        return String(cString: buffer)
    }

    // MARK: Publish

    /// A publish the stream acknowledged: stored at `sequence`, or already stored (`duplicate`:
    /// a message with the same `Nats-Msg-Id` arrived within the stream's duplicate window).
    public struct PublishAck: Sendable, Equatable {
        public var stream: String
        public var sequence: UInt64
        public var duplicate: Bool

        public init(stream: String, sequence: UInt64, duplicate: Bool) {
            self.stream = stream
            self.sequence = sequence
            self.duplicate = duplicate
        }
    }

    /// Publishes `body` to `subject` with `Nats-Msg-Id: msgID` and waits for the stream's ack (at
    /// most `timeout`, default the configuration's request timeout). Blocks the calling thread.
    public func publishBlocking(subject: String, body: [UInt8], msgID: String, timeout: Duration? = nil) throws(JetStreamError) -> PublishAck {
        var message: OpaquePointer?
        let created = body.withUnsafeBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(1, bytes.count)) {
                natsMsg_Create(&message, subject, nil, $0, Int32(bytes.count))
            }
        }
        try Self.check(created, .publish, "build the message for \(subject)")
        defer { natsMsg_Destroy(message) }
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        options.MaxWait = Self.milliseconds(timeout ?? configuration.requestTimeout)
        var ack: UnsafeMutablePointer<jsPubAck>?
        var errorCode = jsErrCode(rawValue: 0)
        let status = msgID.withCString { id in
            options.MsgId = id
            return js_PublishMsg(&ack, jetStream, message, &options, &errorCode)
        }
        guard status == NATS_OK, let ack else {
            throw JetStreamError(.publish, "publish to \(subject)", status: status, jetStreamCode: errorCode)
        }
        defer { jsPubAck_Destroy(ack) }
        return PublishAck(
            stream: ack.pointee.Stream.map { String(cString: $0) } ?? "", sequence: ack.pointee.Sequence, duplicate: ack.pointee.Duplicate
        )
    }

    public func publish(subject: String, body: [UInt8], msgID: String, timeout: Duration? = nil) async throws -> PublishAck {
        try await thread.runIfActive { try self.publishBlocking(subject: subject, body: body, msgID: msgID, timeout: timeout) }
    }

    // MARK: Streams

    /// What the server says of a stream: its configuration and how many messages it holds.
    public struct StreamInfo: Sendable, Equatable {
        public var configuration: StreamConfiguration
        public var messages: UInt64
        public var firstSequence: UInt64
        public var lastSequence: UInt64
        /// The cluster's name and the stream's leader, when the server runs in a cluster.
        public var cluster: String?
        public var leader: String?
    }

    /// The stream's configuration and state; nil if it does not exist. Blocks the calling thread.
    public func streamInfoBlocking(_ name: String) throws(JetStreamError) -> StreamInfo? {
        var info: UnsafeMutablePointer<jsStreamInfo>?
        var errorCode = jsErrCode(rawValue: 0)
        let status = js_GetStreamInfo(&info, jetStream, name, nil, &errorCode)
        if status == NATS_NOT_FOUND { return nil }
        guard status == NATS_OK, let info else {
            throw JetStreamError(.stream, "look up stream \(name)", status: status, jetStreamCode: errorCode)
        }
        defer { jsStreamInfo_Destroy(info) }
        return Self.streamInfo(info.pointee)
    }

    public func streamInfo(_ name: String) async throws -> StreamInfo? {
        try await thread.runIfActive { try self.streamInfoBlocking(name) }
    }

    /// Creates the stream if it is missing, or updates it to `stream` if its subjects, replicas,
    /// duplicate window or age differ (JetStream refuses some changes, e.g. the storage type: that
    /// throws). Returns what the server has now. Blocks the calling thread.
    @discardableResult
    public func ensureStreamBlocking(_ stream: StreamConfiguration) throws(JetStreamError) -> StreamInfo {
        let existing = try streamInfoBlocking(stream.name)
        if let existing, existing.configuration == stream { return existing }
        let subjects = stream.subjects.map { strdup($0) }
        defer { subjects.forEach { free($0) } }
        var config = jsStreamConfig()
        jsStreamConfig_Init(&config)
        var info: UnsafeMutablePointer<jsStreamInfo>?
        var errorCode = jsErrCode(rawValue: 0)
        let status: natsStatus = stream.name.withCString { name in
            config.Name = name
            config.Storage = stream.memoryStorage ? js_MemoryStorage : js_FileStorage
            config.Replicas = Int64(stream.replicas)
            config.Duplicates = Self.nanoseconds(stream.duplicateWindow)
            config.MaxAge = stream.maxAge.map(Self.nanoseconds) ?? 0
            return subjects.map { UnsafePointer($0) }.withUnsafeBufferPointer { list in
                amib_js_stream_config_set_subjects(&config, list.baseAddress, Int32(list.count))
                return existing == nil
                    ? js_AddStream(&info, jetStream, &config, nil, &errorCode)
                    : js_UpdateStream(&info, jetStream, &config, nil, &errorCode)
            }
        }
        guard status == NATS_OK, let info else {
            throw JetStreamError(.stream, "\(existing == nil ? "create" : "update") stream \(stream.name)", status: status, jetStreamCode: errorCode)
        }
        defer { jsStreamInfo_Destroy(info) }
        logger.notice(existing == nil ? "JetStream stream created" : "JetStream stream updated", metadata: [
            "stream": "\(stream.name)", "replicas": "\(stream.replicas)", "subjects": "\(stream.subjects.joined(separator: ","))",
        ])
        return Self.streamInfo(info.pointee)
    }

    @discardableResult
    public func ensureStream(_ stream: StreamConfiguration) async throws -> StreamInfo {
        try await thread.runIfActive { try self.ensureStreamBlocking(stream) }
    }

    /// What the server says of a durable consumer: how far behind it is.
    public struct ConsumerState: Sendable, Equatable {
        /// Messages in the stream not yet handed out: the lag.
        public var pending: UInt64
        /// Handed out and not yet acknowledged.
        public var ackPending: Int64
        /// Handed out more than once (redelivered after their ack wait).
        public var redelivered: Int64
    }

    /// The durable consumer's state; nil if it does not exist. Blocks the calling thread.
    public func consumerStateBlocking(stream: String, durable: String) throws(JetStreamError) -> ConsumerState? {
        var info: UnsafeMutablePointer<jsConsumerInfo>?
        var errorCode = jsErrCode(rawValue: 0)
        let status = js_GetConsumerInfo(&info, jetStream, stream, durable, nil, &errorCode)
        if status == NATS_NOT_FOUND { return nil }
        guard status == NATS_OK, let info else {
            throw JetStreamError(.stream, "look up consumer \(durable) of \(stream)", status: status, jetStreamCode: errorCode)
        }
        defer { jsConsumerInfo_Destroy(info) }
        return ConsumerState(pending: info.pointee.NumPending, ackPending: info.pointee.NumAckPending, redelivered: info.pointee.NumRedelivered)
    }

    public func consumerState(stream: String, durable: String) async throws -> ConsumerState? {
        try await thread.runIfActive { try self.consumerStateBlocking(stream: stream, durable: durable) }
    }

    /// The message stored at `sequence`: its subject, `Nats-Msg-Id` header and body (tests, the drill).
    public struct StoredMessage: Sendable, Equatable {
        public var subject: String
        public var msgID: String?
        public var body: [UInt8]
    }

    /// Nil if there is no message at `sequence` (deleted, or past the end). Blocks the calling thread.
    public func messageBlocking(stream: String, sequence: UInt64) throws(JetStreamError) -> StoredMessage? {
        var message: OpaquePointer?
        var errorCode = jsErrCode(rawValue: 0)
        let status = js_GetMsg(&message, jetStream, stream, sequence, nil, &errorCode)
        if status == NATS_NOT_FOUND { return nil }
        guard status == NATS_OK, let message else {
            throw JetStreamError(.stream, "get message \(sequence) of \(stream)", status: status, jetStreamCode: errorCode)
        }
        defer { natsMsg_Destroy(message) }
        var id: UnsafePointer<CChar>?
        let hasID = natsMsgHeader_Get(message, "Nats-Msg-Id", &id) == NATS_OK
        let length = Int(natsMsg_GetDataLength(message))
        let body: [UInt8] = natsMsg_GetData(message).map { data in
            data.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
        } ?? []
        return StoredMessage(
            subject: String(cString: natsMsg_GetSubject(message)), msgID: hasID ? id.map { String(cString: $0) } : nil, body: body
        )
    }

    /// Every message of the stream, first to last (tests and the drill; not for large streams).
    public func messages(stream: String) async throws -> [StoredMessage] {
        try await thread.runIfActive {
            guard let info = try self.streamInfoBlocking(stream), info.messages > 0 else { return [] }
            return try (info.firstSequence...info.lastSequence).compactMap { try self.messageBlocking(stream: stream, sequence: $0) }
        }
    }

    // MARK: C plumbing

    private static func apply(_ configuration: Configuration, to options: OpaquePointer?) throws(JetStreamError) {
        let urls = configuration.urls.map { strdup($0) }
        defer { urls.forEach { free($0) } }
        let servers = urls.map { UnsafePointer($0) }.withUnsafeBufferPointer { amib_nats_set_servers(options, $0.baseAddress, Int32($0.count)) }
        try check(servers, .configuration, "NATS urls \(configuration.urls)")
        try check(natsOptions_SetName(options, configuration.name), .configuration, "NATS connection name")
        try check(natsOptions_SetTimeout(options, milliseconds(configuration.connectTimeout)), .configuration, "NATS connect timeout")
        try check(natsOptions_SetAllowReconnect(options, true), .configuration, "NATS reconnect")
        try check(natsOptions_SetMaxReconnect(options, -1), .configuration, "NATS reconnect attempts")
        try check(natsOptions_SetReconnectWait(options, milliseconds(configuration.reconnectWait)), .configuration, "NATS reconnect wait")
        // Start even when no server answers: connect in the background.
        try check(amib_nats_retry_on_failed_connect_in_background(options), .configuration, "NATS retry on failed connect")
        if let file = configuration.credentialsFile {
            try check(natsOptions_SetUserCredentialsFromFiles(options, file, nil), .configuration, "NATS credentials file \(file)")
        }
        if let user = configuration.user {
            try check(natsOptions_SetUserInfo(options, user, configuration.password), .configuration, "NATS user")
        }
        if let token = configuration.token {
            try check(natsOptions_SetToken(options, token), .configuration, "NATS token")
        }
        if configuration.tls || configuration.tlsCAFile != nil {
            try check(natsOptions_SetSecure(options, true), .configuration, "NATS TLS")
        }
        if let file = configuration.tlsCAFile {
            try check(natsOptions_LoadCATrustedCertificates(options, file), .configuration, "NATS TLS CA file \(file)")
        }
    }

    private static func check(_ status: natsStatus, _ code: JetStreamError.Code, _ context: String) throws(JetStreamError) {
        guard status == NATS_OK else { throw JetStreamError(code, context, status: status) }
    }

    private static func streamInfo(_ info: jsStreamInfo) -> StreamInfo {
        var configuration = StreamConfiguration()
        if let config = info.Config?.pointee {
            configuration.name = config.Name.map { String(cString: $0) } ?? ""
            configuration.subjects = (0..<Int(config.SubjectsLen)).compactMap { config.Subjects?[$0].map { String(cString: $0) } }
            configuration.replicas = Int(config.Replicas)
            configuration.duplicateWindow = .nanoseconds(config.Duplicates)
            configuration.maxAge = config.MaxAge == 0 ? nil : .nanoseconds(config.MaxAge)
            configuration.memoryStorage = config.Storage == js_MemoryStorage
        }
        return StreamInfo(
            configuration: configuration,
            messages: info.State.Msgs,
            firstSequence: info.State.FirstSeq,
            lastSequence: info.State.LastSeq,
            cluster: info.Cluster?.pointee.Name.map { String(cString: $0) },
            leader: info.Cluster?.pointee.Leader.map { String(cString: $0) }
        )
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        Int64((duration / .milliseconds(1)).rounded())
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}
