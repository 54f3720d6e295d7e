/// The answer to a ``CurlHTTPRequest``, whatever its status: deciding what a 4xx or 5xx means
/// (retry, dead-letter) is the caller's business.
public struct CurlHTTPResponse: Sendable {
    /// The HTTP status code, e.g. 200.
    public var status: Int
    /// The response's header fields in order, without the status line.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// From the start of the request to the end of the response, as libcurl measured it.
    public var totalTime: Duration

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8], totalTime: Duration) {
        self.status = status
        self.headers = headers
        self.body = body
        self.totalTime = totalTime
    }

    /// The first value of the header `name`, compared case-insensitively (e.g. `Retry-After`).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return self.headers.first { $0.name.lowercased() == wanted }?.value
    }
}
