/// An error of the AMI client: what went wrong (``code``), a message for the log, and an optional
/// detail (e.g. the offending key). A struct with an extensible code, not a growing enum, so new
/// cases do not break callers that switch on it.
public struct AMIError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case malformedFrame, lineTooLong, messageTooLarge
            case forbiddenCharacter, invalidAction
            case connectionClosed, connectFailed, bannerTimeout, unexpectedBanner
            case loginRejected, loginTimeout, pingTimeout
            case actionTimeout, notConnected, serverShutdown, eventBufferOverflow, clientShutdown
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The peer sent bytes that are not AMI.
        public static let malformedFrame = Code(.malformedFrame)
        /// A line exceeded ``AMIFrameDecoder/Limits/maxLineBytes``.
        public static let lineTooLong = Code(.lineTooLong)
        /// A message exceeded ``AMIFrameDecoder/Limits/maxMessageBytes``.
        public static let messageTooLarge = Code(.messageTooLarge)
        /// An action key or value holds CR, LF or NUL (AMI header injection); nothing was sent.
        public static let forbiddenCharacter = Code(.forbiddenCharacter)
        /// An action is not well formed (empty key, colon in a key); nothing was sent.
        public static let invalidAction = Code(.invalidAction)
        /// The connection closed before the action was answered.
        public static let connectionClosed = Code(.connectionClosed)
        /// The TCP connection could not be made.
        public static let connectFailed = Code(.connectFailed)
        /// No `Asterisk Call Manager/...` greeting within the deadline.
        public static let bannerTimeout = Code(.bannerTimeout)
        /// The first line was not an AMI greeting: the port is not an AMI port.
        public static let unexpectedBanner = Code(.unexpectedBanner)
        /// Asterisk refused the username or secret. Retried slowly, reported loudly.
        public static let loginRejected = Code(.loginRejected)
        /// Asterisk did not answer the login in time.
        public static let loginTimeout = Code(.loginTimeout)
        /// A `Ping` sent on an idle connection was not answered in time (half-open socket).
        public static let pingTimeout = Code(.pingTimeout)
        /// An action was not answered within its timeout.
        public static let actionTimeout = Code(.actionTimeout)
        /// The server is not logged in right now.
        public static let notConnected = Code(.notConnected)
        /// Asterisk announced `Event: Shutdown`.
        public static let serverShutdown = Code(.serverShutdown)
        /// The event consumer fell behind and the configured overflow policy applied.
        public static let eventBufferOverflow = Code(.eventBufferOverflow)
        /// The client is shutting down.
        public static let clientShutdown = Code(.clientShutdown)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    public var detail: String?

    public init(_ code: Code, _ message: String, detail: String? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }

    public var description: String {
        if let detail { return "\(code): \(message) (\(detail))" }
        return "\(code): \(message)"
    }
}
