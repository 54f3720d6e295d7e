import CNats
import Foundation

/// A durable pull consumer of a JetStream stream, through libnats: what `amibridge deliver` reads
/// the event log with. Several processes (on several machines) that open the same durable name
/// share its messages: each message goes to one of them, and one that is not acknowledged within
/// `ackWait` (its process died, or hung) goes out again, to any of them.
///
/// Messages are fetched one at a time: libnats 3.4.1 (Debian 12) can lose track of a batch
/// larger than one when messages are already pending (fixed upstream in 3.8.3), and one per
/// request costs a round trip on loopback or a LAN, far below a webhook's.
///
/// Every call blocks its thread until the server answers or the timeout passes: callers are
/// threads of their own, never an event loop or Swift's cooperative pool.
public final class JetStreamConsumer: @unchecked Sendable {
    // @unchecked: the subscription is a C handle, made once and freed in deinit; libnats makes
    // fetching and acknowledging from several threads safe.

    public struct Configuration: Sendable, Equatable {
        /// The stream to read. Default `AMIBRIDGE`.
        public var stream = "AMIBRIDGE"
        /// The durable consumer's name (one per webhook endpoint: `amibridge-<endpoint>`).
        public var durable: String
        /// Only messages whose subject matches (`amibridge.>`: all). Default all.
        public var filterSubject: String?
        /// How long a fetched message may stay unacknowledged before it goes out again (its holder
        /// is presumed dead). A holder still working on it says so with ``JetStreamMessage/inProgressBlocking()``.
        /// Default 30 s.
        public var ackWait: Duration = .seconds(30)
        /// At most this many messages fetched and not yet acknowledged, over all processes. Default 1,000.
        public var maxAckPending = 1000

        public init(durable: String) {
            self.durable = durable
        }
    }

    public typealias State = JetStreamConnection.ConsumerState

    public let configuration: Configuration
    private let connection: JetStreamConnection
    private let subscription: OpaquePointer

    /// Creates the durable consumer if it is missing (or updates its ack wait and max ack pending),
    /// and binds a pull subscription to it. Throws while no server answers: callers retry.
    public init(connection: JetStreamConnection, configuration: Configuration) throws(JetStreamError) {
        self.connection = connection
        self.configuration = configuration
        try Self.ensureConsumer(connection: connection, configuration)
        var options = jsSubOptions()
        jsSubOptions_Init(&options)
        var subscription: OpaquePointer?
        var errorCode = jsErrCode(rawValue: 0)
        let status = configuration.stream.withCString { stream in
            configuration.durable.withCString { durable in
                options.Stream = stream
                options.Consumer = durable
                return js_PullSubscribe(
                    &subscription, connection.jetStream, configuration.filterSubject ?? ">", durable, nil, &options, &errorCode
                )
            }
        }
        guard status == NATS_OK, let subscription else {
            throw JetStreamError(.consume, "subscribe to consumer \(configuration.durable) of \(configuration.stream)", status: status, jetStreamCode: errorCode)
        }
        self.subscription = subscription
    }

    deinit {
        natsSubscription_Unsubscribe(subscription)
        natsSubscription_Destroy(subscription)
    }

    /// The next message, or nil when none arrived within `timeout`.
    public func nextBlocking(timeout: Duration) throws(JetStreamError) -> JetStreamMessage? {
        var list = natsMsgList()
        var errorCode = jsErrCode(rawValue: 0)
        let status = natsSubscription_Fetch(&list, subscription, 1, JetStreamConnection.milliseconds(timeout), &errorCode)
        if status == NATS_TIMEOUT { return nil }
        guard status == NATS_OK else {
            throw JetStreamError(.consume, "fetch from consumer \(configuration.durable)", status: status, jetStreamCode: errorCode)
        }
        defer { natsMsgList_Destroy(&list) }
        guard list.Count > 0, let message = list.Msgs[0] else { return nil }
        list.Msgs[0] = nil // kept: the JetStreamMessage destroys it
        return JetStreamMessage(message)
    }

    /// The consumer's lag and unacknowledged count, as the server has them now.
    public func stateBlocking() throws(JetStreamError) -> State {
        guard let state = try connection.consumerStateBlocking(stream: configuration.stream, durable: configuration.durable) else {
            throw JetStreamError(code: .consume, context: "look up consumer \(configuration.durable)", detail: "not found")
        }
        return state
    }

    /// Adds the consumer, or updates the settings an operator may change (ack wait, max ack
    /// pending) when they differ. Explicit acks; redelivered without limit (the deliverer, not
    /// the server, decides when a message is a dead letter, and terminates it).
    private static func ensureConsumer(connection: JetStreamConnection, _ configuration: Configuration) throws(JetStreamError) {
        var existing: UnsafeMutablePointer<jsConsumerInfo>?
        var errorCode = jsErrCode(rawValue: 0)
        let lookup = js_GetConsumerInfo(&existing, connection.jetStream, configuration.stream, configuration.durable, nil, &errorCode)
        if lookup == NATS_OK, let existing {
            defer { jsConsumerInfo_Destroy(existing) }
            if let current = existing.pointee.Config?.pointee,
               current.AckWait == JetStreamConnection.nanoseconds(configuration.ackWait),
               current.MaxAckPending == Int64(configuration.maxAckPending) {
                return
            }
        } else if lookup != NATS_NOT_FOUND {
            throw JetStreamError(.consume, "look up consumer \(configuration.durable) of \(configuration.stream)", status: lookup, jetStreamCode: errorCode)
        }
        var config = jsConsumerConfig()
        jsConsumerConfig_Init(&config)
        config.AckPolicy = js_AckExplicit
        config.DeliverPolicy = js_DeliverAll
        config.AckWait = JetStreamConnection.nanoseconds(configuration.ackWait)
        config.MaxAckPending = Int64(configuration.maxAckPending)
        config.MaxDeliver = -1
        var info: UnsafeMutablePointer<jsConsumerInfo>?
        let adding = lookup == NATS_NOT_FOUND
        let status = configuration.durable.withCString { durable in
            withOptionalCString(configuration.filterSubject) { filter in
                config.Durable = durable
                config.FilterSubject = filter
                return adding
                    ? js_AddConsumer(&info, connection.jetStream, configuration.stream, &config, nil, &errorCode)
                    : js_UpdateConsumer(&info, connection.jetStream, configuration.stream, &config, nil, &errorCode)
            }
        }
        guard status == NATS_OK, let info else {
            throw JetStreamError(.consume, "\(adding ? "create" : "update") consumer \(configuration.durable) of \(configuration.stream)", status: status, jetStreamCode: errorCode)
        }
        jsConsumerInfo_Destroy(info)
    }
}

private func withOptionalCString<T>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
    guard let text else { return body(nil) }
    return text.withCString(body)
}

/// One message fetched from a ``JetStreamConsumer``: its content and delivery metadata, and the
/// acknowledgements that settle it. Exactly one of ack or term should end it; a message dropped
/// without either goes out again after the consumer's ack wait.
public final class JetStreamMessage: @unchecked Sendable {
    // @unchecked: one owner at a time (the thread delivering it); the C message is freed in deinit.
    private let message: OpaquePointer
    public let subject: String
    /// The `Nats-Msg-Id` header: the event id.
    public let msgID: String?
    public let body: [UInt8]
    /// Its place in the stream.
    public let streamSequence: UInt64
    /// How many times the consumer has handed it out, this time included (1: the first).
    public let deliveries: UInt64
    /// Messages after it not yet handed out: the consumer's lag when it was fetched.
    public let pendingAfter: UInt64
    /// When the stream stored it.
    public let storedAt: Date

    init(_ message: OpaquePointer) {
        self.message = message
        self.subject = String(cString: natsMsg_GetSubject(message))
        var id: UnsafePointer<CChar>?
        self.msgID = natsMsgHeader_Get(message, "Nats-Msg-Id", &id) == NATS_OK ? id.map { String(cString: $0) } : nil
        let length = Int(natsMsg_GetDataLength(message))
        self.body = natsMsg_GetData(message).map { data in
            data.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
        } ?? []
        var metadata: UnsafeMutablePointer<jsMsgMetaData>?
        if natsMsg_GetMetaData(&metadata, message) == NATS_OK, let metadata {
            self.streamSequence = metadata.pointee.Sequence.Stream
            self.deliveries = metadata.pointee.NumDelivered
            self.pendingAfter = metadata.pointee.NumPending
            self.storedAt = Date(timeIntervalSince1970: Double(metadata.pointee.Timestamp) / 1_000_000_000)
            jsMsgMetaData_Destroy(metadata)
        } else {
            (self.streamSequence, self.deliveries, self.pendingAfter, self.storedAt) = (0, 1, 0, Date())
        }
    }

    deinit {
        natsMsg_Destroy(message)
    }

    /// Done with it: waits for the server to confirm, so a message counted as delivered is not
    /// handed out again (an ack lost on the way would be).
    public func ackBlocking() throws(JetStreamError) {
        var errorCode = jsErrCode(rawValue: 0)
        let status = natsMsg_AckSync(message, nil, &errorCode)
        guard status == NATS_OK else { throw JetStreamError(.consume, "ack \(subject) #\(streamSequence)", status: status, jetStreamCode: errorCode) }
    }

    /// Still working on it (waiting to retry): restarts the consumer's ack wait.
    public func inProgressBlocking() throws(JetStreamError) {
        let status = natsMsg_InProgress(message, nil)
        guard status == NATS_OK else { throw JetStreamError(.consume, "in-progress \(subject) #\(streamSequence)", status: status) }
    }

    /// Hand it out again now (to any process): this one stops working on it.
    public func nakBlocking() throws(JetStreamError) {
        let status = natsMsg_Nak(message, nil)
        guard status == NATS_OK else { throw JetStreamError(.consume, "nak \(subject) #\(streamSequence)", status: status) }
    }

    /// Never hand it out again (a dead letter, kept elsewhere).
    public func termBlocking() throws(JetStreamError) {
        let status = natsMsg_Term(message, nil)
        guard status == NATS_OK else { throw JetStreamError(.consume, "terminate \(subject) #\(streamSequence)", status: status) }
    }
}
