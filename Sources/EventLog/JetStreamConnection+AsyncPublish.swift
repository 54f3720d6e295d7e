import CNats
import NIOConcurrencyHelpers

/// Pipelined publishing: many messages in flight on the connection at once, their acks collected
/// by libnats's async-publish handler. Several times the rate of one publish per round trip; the
/// price is order around a failure (a message after a failed one may be stored before the failed
/// one is published again).
extension JetStreamConnection {
    /// One message of a batch.
    public struct OutgoingMessage: Sendable {
        public var subject: String
        public var body: [UInt8]
        public var msgID: String

        public init(subject: String, body: [UInt8], msgID: String) {
            self.subject = subject
            self.body = body
            self.msgID = msgID
        }
    }

    /// Publishes `messages` without waiting for each ack, then waits (at most `timeout` for the
    /// whole batch) for them all. Returns each message's outcome, in order: its ack, or why it
    /// counts as not published (not sent, refused, or no ack in time). Blocks the calling thread;
    /// one batch at a time per connection.
    public func publishBatchBlocking(_ messages: [OutgoingMessage], timeout: Duration? = nil) -> [Result<PublishAck, JetStreamError>] {
        guard !messages.isEmpty else { return [] }
        let collector = asyncAcks.collector
        collector.begin(messages.map(\.msgID))
        var sendFailure: (index: Int, error: JetStreamError)?
        for (index, message) in messages.enumerated() {
            var natsMessage: OpaquePointer?
            let created = message.body.withUnsafeBufferPointer { bytes in
                bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(1, bytes.count)) {
                    natsMsg_Create(&natsMessage, message.subject, nil, $0, Int32(bytes.count))
                }
            }
            var status = created
            if status == NATS_OK {
                var options = jsPubOptions()
                jsPubOptions_Init(&options)
                status = message.msgID.withCString { id in
                    options.MsgId = id
                    return js_PublishMsgAsync(asyncAcks.context, &natsMessage, &options)
                }
            }
            // Taken by the library on success (the pointer is cleared); ours to free otherwise.
            natsMsg_Destroy(natsMessage)
            if status != NATS_OK {
                sendFailure = (index, JetStreamError(.publish, "publish to \(message.subject)", status: status))
                break
            }
        }
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        options.MaxWait = Self.milliseconds(timeout ?? configuration.requestTimeout)
        let completed = js_PublishAsyncComplete(asyncAcks.context, &options)
        let waitError = completed == NATS_OK ? nil : JetStreamError(.timeout, "wait for publish acks", status: completed)
        let outcomes = collector.end()
        return messages.enumerated().map { index, message in
            if let outcome = outcomes[message.msgID] { return outcome }
            if let sendFailure, index >= sendFailure.index { return .failure(sendFailure.error) }
            return .failure(waitError ?? JetStreamError(code: .timeout, context: "publish to \(message.subject)", detail: "no ack"))
        }
    }
}

/// The JetStream context for pipelined publishes, with libnats's ack handler pointing at a
/// collector this connection owns.
final class AsyncPublishContext: @unchecked Sendable {
    // @unchecked: `context` is a C handle set once; libnats makes sharing it safe.
    let context: OpaquePointer
    let collector: AckCollector

    init(connection: OpaquePointer, requestTimeout: Int64) throws(JetStreamError) {
        let collector = AckCollector()
        var options = jsOptions()
        jsOptions_Init(&options)
        options.Wait = requestTimeout
        options.PublishAsync.MaxPending = 4096
        options.PublishAsync.AckHandler = { _, message, ack, error, closure in
            guard let closure else { natsMsg_Destroy(message); return }
            let collector = Unmanaged<AckCollector>.fromOpaque(closure).takeUnretainedValue()
            var id: UnsafePointer<CChar>?
            if natsMsgHeader_Get(message, "Nats-Msg-Id", &id) == NATS_OK, let id {
                let msgID = String(cString: id)
                if let ack {
                    collector.record(msgID, .success(JetStreamConnection.PublishAck(
                        stream: ack.pointee.Stream.map { String(cString: $0) } ?? "", sequence: ack.pointee.Sequence, duplicate: ack.pointee.Duplicate
                    )))
                } else if let error {
                    let detail = error.pointee.ErrText.map { String(cString: $0) } ?? String(cString: natsStatus_GetText(error.pointee.Err))
                    collector.record(msgID, .failure(JetStreamError(
                        code: .publish, context: "publish \(msgID)", detail: detail, jetStreamCode: Int(error.pointee.ErrCode.rawValue)
                    )))
                }
            }
            natsMsg_Destroy(message)
        }
        options.PublishAsync.AckHandlerClosure = Unmanaged.passUnretained(collector).toOpaque()
        var context: OpaquePointer?
        let status = natsConnection_JetStream(&context, connection, &options)
        guard status == NATS_OK, let context else { throw JetStreamError(.connect, "open the JetStream context for async publishes", status: status) }
        self.context = context
        self.collector = collector
    }

    deinit { jsCtx_Destroy(context) }
}

/// The outcomes of the batch being published, by message id; acks for ids not in the batch (late
/// ones of an earlier batch) are dropped.
final class AckCollector: Sendable {
    private let state = NIOLockedValueBox<(expected: Set<String>, outcomes: [String: Result<JetStreamConnection.PublishAck, JetStreamError>])>(([], [:]))

    func begin(_ ids: [String]) { state.withLockedValue { $0 = (Set(ids), [:]) } }

    func record(_ id: String, _ outcome: Result<JetStreamConnection.PublishAck, JetStreamError>) {
        state.withLockedValue { state in
            guard state.expected.contains(id) else { return }
            state.outcomes[id] = outcome
        }
    }

    func end() -> [String: Result<JetStreamConnection.PublishAck, JetStreamError>] {
        state.withLockedValue { state in
            defer { state = ([], [:]) }
            return state.outcomes
        }
    }
}
