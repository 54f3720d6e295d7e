/// One AMI message (a response, an event, or a list item) as an ordered list of header fields.
///
/// Keys repeat on the wire (`Output:` lines of `Command`, `Variable:`), so the fields are kept in
/// order rather than in a dictionary. Lookup is case-insensitive because Asterisk versions spell the
/// same key differently (`UniqueID` in 11, `Uniqueid` in 20).
///
/// The storage is one byte array plus one array of offsets: decoding an event costs two allocations
/// however many headers it has, and strings are only made for the values a consumer reads. That is
/// what lets the decoder keep up with a busy dialer (see the README's benchmark).
public struct AMIMessage: Sendable, Hashable {
    @usableFromInline
    struct FieldSpan: Sendable, Hashable {
        @usableFromInline var nameStart: UInt32
        @usableFromInline var nameEnd: UInt32
        @usableFromInline var valueStart: UInt32
        @usableFromInline var valueEnd: UInt32
    }

    @usableFromInline var bytes: [UInt8]
    @usableFromInline var spans: [FieldSpan]

    @usableFromInline
    init(bytes: [UInt8], spans: [FieldSpan]) {
        self.bytes = bytes
        self.spans = spans
    }

    /// Builds a message from fields, e.g. for fakes and tests. Values are stored as given.
    public init(_ fields: [(name: String, value: String)]) {
        var builder = Builder()
        for field in fields {
            builder.append(name: Array(field.name.utf8), value: Array(field.value.utf8))
        }
        self = builder.build()
    }

    /// The number of header fields.
    public var count: Int { spans.count }

    /// The fields in wire order.
    public var fields: [AMIField] {
        spans.map { AMIField(name: string(bytes, $0.nameStart, $0.nameEnd), value: string(bytes, $0.valueStart, $0.valueEnd)) }
    }

    /// The first value of `name` (case-insensitive), or nil when the key is absent.
    @inlinable
    public subscript(name: String) -> String? {
        guard let index = firstIndex(of: name) else { return nil }
        let span = spans[index]
        return string(bytes, span.valueStart, span.valueEnd)
    }

    /// Every value of `name` in wire order (e.g. all `Output` lines of a `Command` response).
    public func values(for name: String) -> [String] {
        var key = Array(name.utf8)
        lowercaseASCII(&key)
        return spans.indices.compactMap { index in
            nameMatches(index, lowercasedKey: key) ? string(bytes, spans[index].valueStart, spans[index].valueEnd) : nil
        }
    }

    /// Whether the first field is called `name` (case-insensitive).
    public func firstFieldName(is name: String) -> Bool {
        guard !spans.isEmpty else { return false }
        var name = name
        return name.withUTF8 { nameMatches(0, key: $0) }
    }

    /// Whether `name` is present (case-insensitive).
    public func contains(_ name: String) -> Bool { firstIndex(of: name) != nil }

    @inlinable
    func firstIndex(of name: String) -> Int? {
        var name = name
        return name.withUTF8 { key in
            for index in spans.indices where nameMatches(index, key: key) {
                return index
            }
            return nil
        }
    }

    @inlinable
    func nameMatches(_ index: Int, key: UnsafeBufferPointer<UInt8>) -> Bool {
        let span = spans[index]
        let length = Int(span.nameEnd - span.nameStart)
        guard length == key.count else { return false }
        let start = Int(span.nameStart)
        for offset in 0..<length where asciiLowercased(bytes[start + offset]) != asciiLowercased(key[offset]) {
            return false
        }
        return true
    }

    func nameMatches(_ index: Int, lowercasedKey key: [UInt8]) -> Bool {
        key.withUnsafeBufferPointer { nameMatches(index, key: $0) }
    }

    /// Two messages are equal when their fields are, whatever their storage layout.
    public static func == (lhs: AMIMessage, rhs: AMIMessage) -> Bool {
        guard lhs.spans.count == rhs.spans.count else { return false }
        for (left, right) in zip(lhs.spans, rhs.spans) {
            guard lhs.bytes[Int(left.nameStart)..<Int(left.nameEnd)].elementsEqual(rhs.bytes[Int(right.nameStart)..<Int(right.nameEnd)]),
                  lhs.bytes[Int(left.valueStart)..<Int(left.valueEnd)].elementsEqual(rhs.bytes[Int(right.valueStart)..<Int(right.valueEnd)])
            else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for span in spans {
            hasher.combine(bytes[Int(span.nameStart)..<Int(span.nameEnd)].count)
            for byte in bytes[Int(span.nameStart)..<Int(span.valueEnd)] { hasher.combine(byte) }
        }
    }

    /// The message as AMI text (CRLF line ends, closing empty line), for logs of malformed input and fakes.
    public var wireText: String {
        var text = ""
        for field in fields {
            text += field.name.isEmpty ? field.value : "\(field.name): \(field.value)"
            text += "\r\n"
        }
        return text + "\r\n"
    }
}

/// One header line of an AMI message.
public struct AMIField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

extension AMIMessage {
    /// Appends fields into the compact storage; used by the decoder and by `init(_:)`.
    @usableFromInline
    struct Builder {
        var bytes: [UInt8] = []
        var spans: [FieldSpan] = []

        init(reservingBytes capacity: Int = 0, fields: Int = 0) {
            bytes.reserveCapacity(capacity)
            spans.reserveCapacity(fields)
        }

        mutating func append(name: some Collection<UInt8>, value: some Collection<UInt8>) {
            let nameStart = UInt32(bytes.count)
            bytes.append(contentsOf: name)
            let nameEnd = UInt32(bytes.count)
            bytes.append(contentsOf: value)
            spans.append(FieldSpan(nameStart: nameStart, nameEnd: nameEnd, valueStart: nameEnd, valueEnd: UInt32(bytes.count)))
        }

        func build() -> AMIMessage { AMIMessage(bytes: bytes, spans: spans) }
    }
}

@inlinable
func asciiLowercased(_ byte: UInt8) -> UInt8 {
    byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
}

func lowercaseASCII(_ bytes: inout [UInt8]) {
    for index in bytes.indices { bytes[index] = asciiLowercased(bytes[index]) }
}

@inlinable
func string(_ bytes: [UInt8], _ start: UInt32, _ end: UInt32) -> String {
    // Values are usually ASCII; anything else (e.g. a Latin-1 caller name from a SIP trunk) is
    // decoded with replacement characters instead of failing.
    String(decoding: bytes[Int(start)..<Int(end)], as: UTF8.self)
}
