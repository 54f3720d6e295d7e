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
    /// headers are kept. Split and trimmed as bytes (every delivery's response goes through
    /// here; walking `Character`s was 4 % of the request thread).
    func receiveHeaderLine(_ line: UnsafeRawBufferPointer) {
        if line.starts(with: "HTTP/".utf8) {
            self.headers.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = Self.trimmed(line[..<colon])
        let value = Self.trimmed(line[(colon + 1)...])
        self.headers.append((name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self)))
    }

    /// Without leading and trailing spaces, tabs, CR and LF.
    private static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else {
            return bytes[bytes.startIndex..<bytes.startIndex]
        }
        return bytes[first...last]
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
