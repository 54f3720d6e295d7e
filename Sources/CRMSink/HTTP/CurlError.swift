import CCurl

/// A request that libcurl could not complete: no HTTP status to look at. (An HTTP error status
/// such as 500 is not a `CurlError`; it comes back as a ``CurlHTTPResponse``.)
///
/// A struct with an extensible ``Code`` rather than an enum, so new libcurl codes never break
/// callers' exhaustive switches.
public struct CurlError: Error, Sendable, Hashable, CustomStringConvertible {
    /// libcurl's `CURLcode`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: UInt32

        public init(rawValue: UInt32) {
            self.rawValue = rawValue
        }

        init(_ code: CURLcode) {
            self.rawValue = code.rawValue
        }

        /// CURLE_UNSUPPORTED_PROTOCOL: a scheme other than http or https.
        public static let unsupportedProtocol = Code(CURLE_UNSUPPORTED_PROTOCOL)
        /// CURLE_URL_MALFORMAT.
        public static let malformedURL = Code(CURLE_URL_MALFORMAT)
        /// CURLE_COULDNT_RESOLVE_HOST: DNS failed.
        public static let couldNotResolveHost = Code(CURLE_COULDNT_RESOLVE_HOST)
        /// CURLE_COULDNT_CONNECT: refused, unreachable, or the connect timeout passed.
        public static let couldNotConnect = Code(CURLE_COULDNT_CONNECT)
        /// CURLE_WRITE_ERROR: here, the response body was larger than the request allows.
        public static let writeError = Code(CURLE_WRITE_ERROR)
        /// CURLE_OPERATION_TIMEDOUT: the whole request took longer than its timeout.
        public static let operationTimedOut = Code(CURLE_OPERATION_TIMEDOUT)
        /// CURLE_BAD_FUNCTION_ARGUMENT: here, a method or header that would corrupt the request.
        public static let badFunctionArgument = Code(CURLE_BAD_FUNCTION_ARGUMENT)
        /// CURLE_SSL_CONNECT_ERROR: the TLS handshake failed.
        public static let tlsConnectError = Code(CURLE_SSL_CONNECT_ERROR)
        /// CURLE_PEER_FAILED_VERIFICATION: the server's certificate or name did not verify.
        public static let peerFailedVerification = Code(CURLE_PEER_FAILED_VERIFICATION)
        /// CURLE_GOT_NOTHING: the server closed the connection without answering.
        public static let gotNothing = Code(CURLE_GOT_NOTHING)
        /// CURLE_SEND_ERROR.
        public static let sendError = Code(CURLE_SEND_ERROR)
        /// CURLE_RECV_ERROR.
        public static let receiveError = Code(CURLE_RECV_ERROR)

        public var description: String { String(self.rawValue) }
    }

    public var code: Code
    /// libcurl's own detailed text for this failure (its error buffer), e.g. "Failed to connect to
    /// 127.0.0.1 port 8080 after 0 ms: Couldn't connect to server". The request's URL is not
    /// added, since its query may carry secrets.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        "curl error \(self.code): \(self.message)"
    }
}
