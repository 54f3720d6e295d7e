import CCurl

/// Collects a response as libcurl hands it over, through the C callbacks below.
final class CurlResponseReceiver {
    let maximumBodySize: Int
    private(set) var headers: [(name: String, value: String)] = []
    private(set) var body: [UInt8] = []
    private(set) var exceededMaximumBodySize = false

    init(maximumBodySize: Int) {
        self.maximumBodySize = maximumBodySize
    }

    /// Returns false to make libcurl abort the transfer.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard self.body.count + bytes.count <= self.maximumBodySize else {
            self.exceededMaximumBodySize = true
            return false
        }
        self.body.append(contentsOf: bytes)
        return true
    }

    /// One header line, CRLF included. Interim responses (`100 Continue`) come first, each with
    /// its own status line, so a status line starts the list afresh: only the final response's
    /// headers are kept.
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            self.headers.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingWhitespace()
        let value = line[line.index(after: colon)...].trimmingWhitespace()
        self.headers.append((name: name, value: value))
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r\n" || $0 == "\r" || $0 == "\n" }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

/// CURLOPT_WRITEFUNCTION: must return the number of bytes taken; anything else aborts the transfer.
let curlReceiveBody: amib_curl_write_callback = { data, size, count, context in
    let receiver = Unmanaged<CurlResponseReceiver>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    return receiver.receiveBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

/// CURLOPT_HEADERFUNCTION: called once per header line.
let curlReceiveHeader: amib_curl_write_callback = { data, size, count, context in
    let receiver = Unmanaged<CurlResponseReceiver>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    receiver.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
    return length
}
