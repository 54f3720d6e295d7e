/// One AMI message (a response, an event, or a list item) as an ordered list of header fields.
///
/// Keys repeat on the wire (`Output:` lines of `Command`, `Variable:`), so the fields are kept in
/// order rather than in a dictionary. Lookup is case-insensitive because Asterisk versions spell the
/// same key differently (`UniqueID` in 11, `Uniqueid` in 20).
///
/// A message is its fields' offsets followed by its header bytes, inside a ``Slab``: the decoder
/// packs the messages of a connection one after another into 64 KiB slabs, so decoding costs no
/// allocation per message, and strings are only made for the values a consumer reads. This
/// matters twice over: the decoder allocates on the socket's thread and the tracker frees on its
/// own, and every free of another thread's memory takes the allocator's arena lock (one per slab
/// instead of one per event; see the README's ingest benchmark). A message kept alive keeps its
/// slab; nothing holds events for long (the tracker keeps strings, not messages).
public struct AMIMessage: @unchecked Sendable, Hashable {
    // @unchecked: a message's region of its slab is written once, before the message exists, and
    // only read after; the decoder writes later messages into regions no message points to.
    @usableFromInline
    struct FieldSpan: Sendable, Hashable {
        @usableFromInline var nameStart: UInt32
        @usableFromInline var nameEnd: UInt32
        @usableFromInline var valueStart: UInt32
        @usableFromInline var valueEnd: UInt32
    }

    @usableFromInline let slab: Slab
    /// Where the message starts in its slab, in span-sized slots.
    @usableFromInline let start: UInt32
    @usableFromInline let spanCount: UInt32
    @usableFromInline let byteCount: UInt32

    /// A message holding a copy of `bytes`, with `spans` pointing into them, in a slab of its own.
    init(bytes: UnsafeRawBufferPointer, spans: UnsafeBufferPointer<FieldSpan>) {
        var slab: Slab? = nil
        self = Slab.append(bytes: bytes, spans: spans, to: &slab, slabSlots: 0)
    }

    @usableFromInline
    init(slab: Slab, start: UInt32, spanCount: UInt32, byteCount: UInt32) {
        self.slab = slab
        self.start = start
        self.spanCount = spanCount
        self.byteCount = byteCount
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
    public var count: Int { Int(spanCount) }

    /// Calls `body` with the fields' offsets and the bytes they point into (valid only inside it).
    @inlinable
    func withFields<Result>(_ body: (UnsafeBufferPointer<FieldSpan>, UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try slab.withUnsafeMutablePointerToElements { elements in
            let spans = elements + Int(start)
            let bytes = UnsafeRawPointer(spans + Int(spanCount)).assumingMemoryBound(to: UInt8.self)
            return try body(
                UnsafeBufferPointer(start: spans, count: Int(spanCount)),
                UnsafeBufferPointer(start: bytes, count: Int(byteCount))
            )
        }
    }

    /// The fields in wire order.
    public var fields: [AMIField] {
        withFields { spans, bytes in
            spans.map { AMIField(name: string(bytes, $0.nameStart, $0.nameEnd), value: string(bytes, $0.valueStart, $0.valueEnd)) }
        }
    }

    /// The first value of `name` (case-insensitive), or nil when the key is absent.
    @inlinable
    public subscript(name: String) -> String? {
        withFields { spans, bytes in
            guard let index = Self.firstIndex(of: name, spans, bytes) else { return nil }
            return string(bytes, spans[index].valueStart, spans[index].valueEnd)
        }
    }

    /// Every value of `name` in wire order (e.g. all `Output` lines of a `Command` response).
    public func values(for name: String) -> [String] {
        var name = name
        return name.withUTF8 { key in
            withFields { spans, bytes in
                spans.indices.compactMap { index in
                    Self.nameMatches(spans[index], key: key, bytes) ? string(bytes, spans[index].valueStart, spans[index].valueEnd) : nil
                }
            }
        }
    }

    /// Whether the first field is called `name` (case-insensitive).
    public func firstFieldName(is name: String) -> Bool {
        var name = name
        return name.withUTF8 { key in
            withFields { spans, bytes in !spans.isEmpty && Self.nameMatches(spans[0], key: key, bytes) }
        }
    }

    /// Whether `name` is present (case-insensitive).
    public func contains(_ name: String) -> Bool { firstIndex(of: name) != nil }

    @inlinable
    func firstIndex(of name: String) -> Int? {
        withFields { spans, bytes in Self.firstIndex(of: name, spans, bytes) }
    }

    @inlinable
    static func firstIndex(of name: String, _ spans: UnsafeBufferPointer<FieldSpan>, _ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var name = name
        return name.withUTF8 { key in
            for index in spans.indices where nameMatches(spans[index], key: key, bytes) {
                return index
            }
            return nil
        }
    }

    @inlinable
    static func nameMatches(_ span: FieldSpan, key: UnsafeBufferPointer<UInt8>, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let length = Int(span.nameEnd &- span.nameStart)
        guard length == key.count else { return false }
        let start = Int(span.nameStart)
        for offset in 0..<length where asciiLowercased(bytes[start &+ offset]) != asciiLowercased(key[offset]) {
            return false
        }
        return true
    }

    /// Two messages are equal when their fields are, whatever their storage layout.
    public static func == (lhs: AMIMessage, rhs: AMIMessage) -> Bool {
        if lhs.slab === rhs.slab, lhs.start == rhs.start { return true }
        return lhs.withFields { leftSpans, leftBytes in
            rhs.withFields { rightSpans, rightBytes in
                guard leftSpans.count == rightSpans.count else { return false }
                for (left, right) in zip(leftSpans, rightSpans) {
                    guard leftBytes[Int(left.nameStart)..<Int(left.nameEnd)].elementsEqual(rightBytes[Int(right.nameStart)..<Int(right.nameEnd)]),
                          leftBytes[Int(left.valueStart)..<Int(left.valueEnd)].elementsEqual(rightBytes[Int(right.valueStart)..<Int(right.valueEnd)])
                    else { return false }
                }
                return true
            }
        }
    }

    public func hash(into hasher: inout Hasher) {
        withFields { spans, bytes in
            for span in spans {
                hasher.combine(Int(span.nameEnd - span.nameStart))
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[Int(span.nameStart)..<Int(span.nameEnd)])))
                hasher.combine(Int(span.valueEnd - span.valueStart))
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[Int(span.valueStart)..<Int(span.valueEnd)])))
            }
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
    /// Consecutive messages' spans and bytes. The header counts the slots handed out so far; only
    /// the decoder that fills the slab reads or writes it.
    @usableFromInline
    final class Slab: ManagedBuffer<Slab.Fill, FieldSpan> {
        @usableFromInline
        struct Fill {
            var used: Int
            /// Kept here: `ManagedBuffer.capacity` asks the allocator every time.
            var capacity: Int
        }

        /// Slots in a decoder's slab: 64 KiB, a hundred events or so.
        static let defaultSlots = 4096

        /// Copies a message into `slab` when it has room, else into a new slab of `slabSlots`
        /// slots (or just the message's size when it is bigger, or `slabSlots` is 0) that
        /// becomes `slab`.
        static func append(bytes: UnsafeRawBufferPointer, spans: UnsafeBufferPointer<FieldSpan>, to slab: inout Slab?, slabSlots: Int) -> AMIMessage {
            let spanStride = MemoryLayout<FieldSpan>.stride
            let slots = spans.count + (bytes.count + spanStride - 1) / spanStride
            let target: Slab
            if let current = slab, current.header.capacity - current.header.used >= slots {
                target = current
            } else {
                let capacity = max(slots, slabSlots)
                // `create` returns an instance of the class it is called on; the downcast cannot fail.
                target = unsafeDowncast(Slab.create(minimumCapacity: capacity) { _ in Fill(used: 0, capacity: capacity) }, to: Slab.self)
                if slabSlots > 0, slots <= slabSlots { slab = target }
            }
            let start = target.header.used
            target.withUnsafeMutablePointerToElements { elements in
                let region = elements + start
                if let base = spans.baseAddress { region.initialize(from: base, count: spans.count) }
                if let base = bytes.baseAddress {
                    let byteRegion = UnsafeMutableRawPointer(region + spans.count)
                    byteRegion.copyMemory(from: base, byteCount: bytes.count)
                    byteRegion.bindMemory(to: UInt8.self, capacity: bytes.count)
                }
            }
            target.header.used = start + slots
            return AMIMessage(slab: target, start: UInt32(start), spanCount: UInt32(spans.count), byteCount: UInt32(bytes.count))
        }
    }

    /// Appends fields into the compact storage; used by the decoder and by `init(_:)`.
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

        func build() -> AMIMessage {
            bytes.withUnsafeBytes { bytes in
                spans.withUnsafeBufferPointer { AMIMessage(bytes: bytes, spans: $0) }
            }
        }
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
func string(_ bytes: UnsafeBufferPointer<UInt8>, _ start: UInt32, _ end: UInt32) -> String {
    // Values are usually ASCII; anything else (e.g. a Latin-1 caller name from a SIP trunk) is
    // decoded with replacement characters instead of failing.
    String(decoding: UnsafeBufferPointer(rebasing: bytes[Int(start)..<Int(end)]), as: UTF8.self)
}
