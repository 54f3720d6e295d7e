import CCurl

/// One request on one libcurl easy handle, in three steps: ``begin(_:)`` checks the request and
/// sets the handle's options, libcurl runs it (``CurlHTTPClient`` with `curl_easy_perform`,
/// ``CurlMultiClient`` with its multi handle, beside others), and ``finish(_:)`` reads the answer.
///
/// The handle is reused from one request to the next; its open connections (or the multi
/// handle's) and TLS sessions stay. Not thread-safe: a transfer belongs to one thread.
final class CurlTransfer {
    let handle: UnsafeMutableRawPointer
    /// Where libcurl writes its detailed text for the last failure (CURLOPT_ERRORBUFFER).
    private let errorBuffer: UnsafeMutablePointer<CChar>
    // The running request's state: libcurl reads the header list and calls back into the
    // receiver (through an unretained pointer) until the transfer ends.
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var receiver: CurlResponseReceiver?

    init() throws(CurlError) {
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
        curl_slist_free_all(self.headerList)
        self.errorBuffer.deallocate()
    }

    /// Checks `request` and sets every option for it. Nothing is sent yet.
    func begin(_ request: CurlHTTPRequest) throws(CurlError) {
        try Self.validate(request)
        // Forget the previous request's options; open connections and TLS sessions are kept.
        curl_easy_reset(self.handle)
        self.errorBuffer[0] = 0
        curl_slist_free_all(self.headerList)
        self.headerList = nil
        for line in Self.headerLines(for: request) {
            self.headerList = curl_slist_append(self.headerList, line)
        }
        let receiver = CurlResponseReceiver(maximumBodySize: request.maximumResponseBodySize)
        self.receiver = receiver
        let code = self.configure(for: request, headers: self.headerList, context: Unmanaged.passUnretained(receiver).toOpaque())
        guard code == CURLE_OK else {
            self.endRequest()
            throw self.error(code)
        }
    }

    /// The answer once libcurl has ended the transfer with `code`.
    ///
    /// Any HTTP status is a response; a ``CurlError`` means there is none (refused, timed out,
    /// TLS failure, response too large...).
    func finish(_ code: CURLcode) -> Result<CurlHTTPResponse, CurlError> {
        defer { self.endRequest() }
        guard let receiver = self.receiver else {
            return .failure(CurlError(code: CurlError.Code(CURLE_FAILED_INIT), message: "no request was begun on this handle"))
        }
        guard code == CURLE_OK else {
            if receiver.exceededMaximumBodySize {
                return .failure(CurlError(
                    code: .writeError,
                    message: "response body larger than the \(receiver.maximumBodySize) bytes allowed"
                ))
            }
            return .failure(self.error(code))
        }
        var status = 0
        var seconds = 0.0
        _ = amib_curl_easy_getinfo_long(self.handle, CURLINFO_RESPONSE_CODE, &status)
        _ = amib_curl_easy_getinfo_double(self.handle, CURLINFO_TOTAL_TIME, &seconds)
        return .success(CurlHTTPResponse(
            status: status,
            headers: receiver.headers,
            body: receiver.body,
            totalTime: .microseconds(Int64(seconds * 1_000_000))
        ))
    }

    /// Forgets the request begun (its header list and receiver), e.g. when it is never run.
    func endRequest() {
        curl_slist_free_all(self.headerList)
        self.headerList = nil
        self.receiver = nil
    }

    /// Sets every option `request` needs; returns the first failure.
    private func configure(
        for request: CurlHTTPRequest,
        headers: UnsafeMutablePointer<curl_slist>?,
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
        let sendsBody = !request.body.isEmpty || request.method == "POST" || request.method == "PUT" || request.method == "PATCH"
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
            // libcurl copies the body (COPYPOSTFIELDS, after its size): a transfer driven by a multi
            // handle outlives this call, and a Swift array's bytes are only valid inside it. The
            // pointer must never be NULL with a size set (libcurl would read stdin): an empty body
            // points at a static empty string.
            statuses.append(amib_curl_easy_setopt_off_t(self.handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            statuses.append(request.body.withUnsafeBytes { body in
                let bytes = UnsafeMutableRawPointer(mutating: body.baseAddress ?? UnsafeRawPointer(emptyBody.utf8Start))
                return amib_curl_easy_setopt_pointer(self.handle, CURLOPT_COPYPOSTFIELDS, bytes)
            })
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
