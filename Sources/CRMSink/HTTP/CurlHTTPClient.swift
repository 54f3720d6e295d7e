import CCurl

/// Performs HTTP requests with libcurl, one at a time, blocking the calling thread.
///
/// Run it on a thread pool, never on an event loop or Swift's cooperative pool: a request can
/// block for its whole timeout. The client owns one libcurl easy handle and reuses it, so requests
/// to the same endpoint reuse its open connection (and TLS session). It is not thread-safe: use
/// one client per thread.
public final class CurlHTTPClient {
    private let handle: UnsafeMutableRawPointer
    /// Where libcurl writes its detailed text for the last failure (CURLOPT_ERRORBUFFER).
    private let errorBuffer: UnsafeMutablePointer<CChar>

    public init() throws(CurlError) {
        try CurlLibrary.ensureInitialised()
        guard let handle = curl_easy_init() else {
            throw CurlError(code: CurlError.Code(CURLE_FAILED_INIT), message: "curl_easy_init failed")
        }
        self.handle = handle
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(self.handle)
        self.errorBuffer.deallocate()
    }

    /// Sends `request` and waits for the whole response (or the request's timeout).
    ///
    /// Any HTTP status is a response; a ``CurlError`` means there is none (refused, timed out,
    /// TLS failure, response too large...).
    public func perform(_ request: CurlHTTPRequest) throws(CurlError) -> CurlHTTPResponse {
        try Self.validate(request)
        // Forget the previous request's options; open connections and TLS sessions are kept.
        curl_easy_reset(self.handle)
        self.errorBuffer[0] = 0

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for line in Self.headerLines(for: request) {
            headerList = curl_slist_append(headerList, line)
        }
        let receiver = CurlResponseReceiver(maximumBodySize: request.maximumResponseBodySize)
        // The callbacks reach the receiver through an unretained pointer: keep it alive throughout.
        let code = withExtendedLifetime(receiver) {
            request.body.withUnsafeBytes { body in
                let context = Unmanaged.passUnretained(receiver).toOpaque()
                let configured = self.configure(for: request, headers: headerList, body: body, context: context)
                return configured == CURLE_OK ? curl_easy_perform(self.handle) : configured
            }
        }

        guard code == CURLE_OK else {
            if receiver.exceededMaximumBodySize {
                throw CurlError(
                    code: .writeError,
                    message: "response body larger than the \(request.maximumResponseBodySize) bytes allowed"
                )
            }
            throw self.error(code)
        }
        var status = 0
        var seconds = 0.0
        _ = amib_curl_easy_getinfo_long(self.handle, CURLINFO_RESPONSE_CODE, &status)
        _ = amib_curl_easy_getinfo_double(self.handle, CURLINFO_TOTAL_TIME, &seconds)
        return CurlHTTPResponse(
            status: status,
            headers: receiver.headers,
            body: receiver.body,
            totalTime: .microseconds(Int64(seconds * 1_000_000))
        )
    }

    /// Sets every option `request` needs; returns the first failure. `body` must stay valid until
    /// the transfer ends (libcurl sends it from there, without copying).
    private func configure(
        for request: CurlHTTPRequest,
        headers: UnsafeMutablePointer<curl_slist>?,
        body: UnsafeRawBufferPointer,
        context: UnsafeMutableRawPointer
    ) -> CURLcode {
        var statuses = [
            amib_curl_easy_setopt_pointer(self.handle, CURLOPT_ERRORBUFFER, self.errorBuffer),
            amib_curl_easy_setopt_string(self.handle, CURLOPT_URL, request.url),
            amib_curl_easy_setopt_string(self.handle, CURLOPT_PROTOCOLS_STR, "http,https"),
            // Signals would be delivered to whichever thread libcurl runs on; timeouts must not use them.
            amib_curl_easy_setopt_long(self.handle, CURLOPT_NOSIGNAL, 1),
            amib_curl_easy_setopt_long(self.handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout)),
            amib_curl_easy_setopt_long(self.handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout)),
            // A webhook endpoint answers for itself; following a redirect could send the body elsewhere.
            amib_curl_easy_setopt_long(self.handle, CURLOPT_FOLLOWLOCATION, request.followsRedirects ? 1 : 0),
            // HTTP/2 when the server offers it in the TLS handshake (ALPN), HTTP/1.1 otherwise.
            amib_curl_easy_setopt_long(self.handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS)),
            amib_curl_easy_setopt_long(self.handle, CURLOPT_SSL_VERIFYPEER, request.verifiesTLS ? 1 : 0),
            amib_curl_easy_setopt_long(self.handle, CURLOPT_SSL_VERIFYHOST, request.verifiesTLS ? 2 : 0),
            amib_curl_easy_setopt_slist(self.handle, CURLOPT_HTTPHEADER, headers),
            amib_curl_easy_setopt_write_function(self.handle, CURLOPT_WRITEFUNCTION, curlReceiveBody),
            amib_curl_easy_setopt_pointer(self.handle, CURLOPT_WRITEDATA, context),
            amib_curl_easy_setopt_write_function(self.handle, CURLOPT_HEADERFUNCTION, curlReceiveHeader),
            amib_curl_easy_setopt_pointer(self.handle, CURLOPT_HEADERDATA, context),
        ]
        if request.followsRedirects {
            statuses += [
                amib_curl_easy_setopt_long(self.handle, CURLOPT_MAXREDIRS, 5),
                amib_curl_easy_setopt_string(self.handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"),
                // Keep POST (and its body) on 301/302/303 instead of switching to GET.
                amib_curl_easy_setopt_long(self.handle, CURLOPT_POSTREDIR, 7), // CURL_REDIR_POST_ALL, a macro expression
            ]
        }
        let sendsBody = !body.isEmpty || request.method == "POST" || request.method == "PUT" || request.method == "PATCH"
        switch (request.method, sendsBody) {
        case ("GET", false):
            statuses.append(amib_curl_easy_setopt_long(self.handle, CURLOPT_HTTPGET, 1))
        case ("HEAD", false):
            statuses.append(amib_curl_easy_setopt_long(self.handle, CURLOPT_NOBODY, 1))
        case ("POST", _):
            break
        default:
            statuses.append(amib_curl_easy_setopt_string(self.handle, CURLOPT_CUSTOMREQUEST, request.method))
        }
        if sendsBody {
            // POSTFIELDS must never be NULL with a body size set: libcurl would then read the body
            // from stdin. An empty body points at a static empty string.
            let bytes = UnsafeMutableRawPointer(mutating: body.baseAddress ?? UnsafeRawPointer(emptyBody.utf8Start))
            statuses.append(amib_curl_easy_setopt_off_t(self.handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            statuses.append(amib_curl_easy_setopt_pointer(self.handle, CURLOPT_POSTFIELDS, bytes))
        }
        return statuses.first { $0 != CURLE_OK } ?? CURLE_OK
    }

    private func error(_ code: CURLcode) -> CurlError {
        let detail = String(cString: self.errorBuffer)
        return CurlError(
            code: CurlError.Code(code),
            message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        )
    }

    /// The request's headers, plus two that switch off libcurl defaults: `Expect:` (libcurl would
    /// otherwise wait up to a second for `100 Continue` before bodies over 1 KiB) and
    /// `Content-Type:` (libcurl would otherwise label every body as a form).
    private static func headerLines(for request: CurlHTTPRequest) -> [String] {
        var lines: [String] = []
        lines.reserveCapacity(request.headers.count + 2)
        var hasExpect = false
        var hasContentType = false
        for (name, value) in request.headers {
            lines.append(name + ": " + value)
            hasExpect = hasExpect || Self.equalsIgnoringCase(name, "expect")
            hasContentType = hasContentType || Self.equalsIgnoringCase(name, "content-type")
        }
        if !hasExpect { lines.append("Expect:") }
        if !hasContentType { lines.append("Content-Type:") }
        return lines
    }

    /// ASCII case-insensitive comparison with a lowercase name, without allocating lowercased
    /// copies on every request.
    private static func equalsIgnoringCase(_ name: String, _ lowercased: StaticString) -> Bool {
        let wanted = UnsafeBufferPointer(start: lowercased.utf8Start, count: lowercased.utf8CodeUnitCount)
        guard name.utf8.count == wanted.count else { return false }
        return zip(name.utf8, wanted).allSatisfy { byte, lower in
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == lower
        }
    }

    /// Refuses what libcurl would pass through verbatim and so let a value rewrite the request.
    /// Checked byte by byte (every delivery goes through here): a token is ASCII, so any byte of
    /// a multi-byte character fails the token test, as the character itself would.
    private static func validate(_ request: CurlHTTPRequest) throws(CurlError) {
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(Self.isTokenByte) else {
            throw CurlError(code: .badFunctionArgument, message: "invalid HTTP method \(String(reflecting: request.method))")
        }
        for (name, value) in request.headers {
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw CurlError(code: .badFunctionArgument, message: "invalid header name \(String(reflecting: name))")
            }
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw CurlError(code: .badFunctionArgument, message: "header \(name) has CR, LF or NUL in its value")
            }
        }
    }

    /// RFC 9110 `tchar`: ``!#$%&'*+-.^_`|~``, digits and letters.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// libcurl treats 0 as "no timeout", so anything positive but under 1 ms becomes 1 ms.
    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(max(1, milliseconds))
    }
}

private let emptyBody: StaticString = ""
