import CNats

/// A failure of the NATS client or of a JetStream request: what was attempted, libnats's status
/// and, for JetStream API errors, the server's error code (e.g. 10058: stream name in use with a
/// different configuration).
public struct JetStreamError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let connect = Code("connect")
        public static let stream = Code("stream")
        public static let publish = Code("publish")
        public static let consume = Code("consume")
        public static let timeout = Code("timeout")
        public static let notConnected = Code("not_connected")
        public static let closed = Code("closed")
        public static let configuration = Code("configuration")
    }

    public var code: Code
    /// What was attempted ("publish to amibridge.dialer1.call_complete").
    public var context: String
    /// libnats's status text, with its last error detail when it has one.
    public var detail: String
    /// The JetStream API error code (0: none).
    public var jetStreamCode: Int

    public init(code: Code, context: String, detail: String, jetStreamCode: Int = 0) {
        self.code = code
        self.context = context
        self.detail = detail
        self.jetStreamCode = jetStreamCode
    }

    init(_ code: Code, _ context: String, status: natsStatus, jetStreamCode: jsErrCode = jsErrCode(rawValue: 0)) {
        var detail = String(cString: natsStatus_GetText(status))
        var lastStatus = NATS_OK
        if let last = nats_GetLastError(&lastStatus), lastStatus == status, last.pointee != 0 {
            let text = String(cString: last)
            if !text.isEmpty && text != detail { detail += ": " + text }
        }
        let resolved: Code = switch status {
        case NATS_TIMEOUT: .timeout
        case NATS_NOT_YET_CONNECTED, NATS_NO_SERVER, NATS_CONNECTION_DISCONNECTED: .notConnected
        case NATS_CONNECTION_CLOSED: .closed
        default: code
        }
        self.init(code: resolved, context: context, detail: detail, jetStreamCode: Int(jetStreamCode.rawValue))
    }

    public var description: String {
        "\(context): \(detail)" + (jetStreamCode != 0 ? " (JetStream error \(jetStreamCode))" : "")
    }
}
