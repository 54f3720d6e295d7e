import CCurl

/// Performs HTTP requests with libcurl, one at a time, blocking the calling thread.
///
/// Run it on a thread of its own, never on an event loop or Swift's cooperative pool: a request
/// can block for its whole timeout. The client owns one libcurl easy handle and reuses it, so
/// requests to the same endpoint reuse its open connection (and TLS session). It is not
/// thread-safe: use one client per thread. ``CurlMultiClient`` runs many requests at once on one
/// thread instead.
public final class CurlHTTPClient {
    private let transfer: CurlTransfer

    public init() throws(CurlError) {
        self.transfer = try CurlTransfer()
    }

    /// Sends `request` and waits for the whole response (or the request's timeout).
    ///
    /// Any HTTP status is a response; a ``CurlError`` means there is none (refused, timed out,
    /// TLS failure, response too large...).
    public func perform(_ request: CurlHTTPRequest) throws(CurlError) -> CurlHTTPResponse {
        try self.transfer.begin(request)
        return try self.transfer.finish(curl_easy_perform(self.transfer.handle)).get()
    }
}
