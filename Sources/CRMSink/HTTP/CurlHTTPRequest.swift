/// One HTTP request for ``CurlHTTPClient``. The defaults are what a webhook delivery wants: TLS
/// verified, redirects not followed, bounded time and response size.
public struct CurlHTTPRequest: Sendable {
    /// `GET`, `POST`, `PUT`, ...: an HTTP token, checked before sending.
    public var method: String
    /// An `http` or `https` URL; other schemes are refused so a configured URL can never read a
    /// local file or reach another protocol.
    public var url: String
    /// Sent in order. Names and values may not contain CR, LF or NUL (header injection).
    public var headers: [(name: String, value: String)]
    /// The request body; sent (with Content-Length) when non-empty, and always for POST, PUT, PATCH.
    public var body: [UInt8]
    /// How long the TCP and TLS handshakes may take. Default 10 s.
    public var connectTimeout: Duration
    /// How long the whole request may take, connection included. Default 30 s.
    public var timeout: Duration
    /// Verify the server's certificate chain and host name. Default on; turning it off is for
    /// endpoints with self-signed certificates the operator has accepted.
    public var verifiesTLS: Bool
    /// Follow 3xx answers (at most 5 hops, http and https only, a POST stays a POST). Default
    /// off: a webhook endpoint answers for itself; following could send the body elsewhere.
    public var followsRedirects: Bool
    /// Largest response body accepted; a larger one fails with ``CurlError/Code/writeError``
    /// instead of growing memory without bound. Default 1 MiB.
    public var maximumResponseBodySize: Int

    public init(
        method: String,
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        connectTimeout: Duration = .seconds(10),
        timeout: Duration = .seconds(30),
        verifiesTLS: Bool = true,
        followsRedirects: Bool = false,
        maximumResponseBodySize: Int = 1 << 20
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.verifiesTLS = verifiesTLS
        self.followsRedirects = followsRedirects
        self.maximumResponseBodySize = maximumResponseBodySize
    }
}
