import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Cuts the AMI byte stream into a banner line and messages.
///
/// Messages are header lines ending with an empty line. Lines end with CRLF; a bare LF is accepted
/// because proxies and hand-written servers send it. A value is everything after the first `:`
/// (and the one space after it), so `Header1: value: with colon` keeps its colon.
/// Asterisk 11-13 answer `Command` with `Response: Follows` and raw LF-separated text closed by
/// `--END COMMAND--`; that text may hold empty lines, so it is framed by its marker instead, and
/// its lines become `Output` fields as in Asterisk 14+.
///
/// The decoder keeps no state between messages but the slab it copies them into. Line and
/// message sizes are capped: a peer that sends an endless line or garbage gets an ``AMIError``
/// (the connection is dropped and re-made) instead of growing memory.
public struct AMIFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = AMIFrame

    public struct Limits: Sendable, Hashable {
        /// Longest accepted line in bytes. Asterisk's own lines are far shorter; long
        /// `Command` output lines and big `Variable:` values stay well under this.
        public var maxLineBytes: Int
        /// Largest accepted message in bytes (a long `Command` output is the biggest real one).
        public var maxMessageBytes: Int

        public init(maxLineBytes: Int = 64 * 1024, maxMessageBytes: Int = 1024 * 1024) {
            self.maxLineBytes = maxLineBytes
            self.maxMessageBytes = maxMessageBytes
        }
    }

    public let limits: Limits
    /// Bytes of the pending message already searched for its end; only an optimisation for
    /// messages that arrive in many reads, reset once the message is cut.
    private var scannedBytes = 0
    /// Where the next messages are copied (see ``AMIMessage``): a slab per ~100 events.
    private var slab: AMIMessage.Slab?
    /// The pending message's field spans, one per line read so far (see `messageStep`); reused, so
    /// it costs no allocation.
    private var scratchSpans: [AMIMessage.FieldSpan] = []

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> AMIFrame? {
        while true {
            let step = try buffer.withUnsafeReadableBytes { try nextStep(in: $0) }
            switch step {
            case .needMoreData(let scanned):
                scannedBytes = scanned
                return nil
            case .skip(let count):
                buffer.moveReaderIndex(forwardBy: count)
                scannedBytes = 0
            case .frame(let frame, let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                scannedBytes = 0
                return frame
            }
        }
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> AMIFrame? {
        // A message cut off by the peer closing is dropped: half an event would be worse than none.
        try decode(buffer: &buffer)
    }

    private enum Step {
        case needMoreData(scanned: Int)
        case skip(Int)
        case frame(AMIFrame, consumed: Int)
    }

    private mutating func nextStep(in bytes: UnsafeRawBufferPointer) throws -> Step {
        let count = bytes.count
        guard count > 0 else { return .needMoreData(scanned: 0) }

        // Empty lines between messages carry nothing.
        if bytes[0] == .lf { return .skip(1) }
        if bytes[0] == .cr {
            guard count > 1 else { return .needMoreData(scanned: 0) }
            if bytes[1] == .lf { return .skip(2) }
        }

        guard let firstLineFeed = bytes.firstIndex(of: .lf, from: 0) else {
            try checkLine(length: count)
            return .needMoreData(scanned: 0)
        }
        // Checked here too: a whole first line may arrive in one read, never seen partial.
        try checkLine(length: firstLineFeed)
        let firstLine = UnsafeRawBufferPointer(rebasing: bytes[0..<firstLineFeed]).droppingCarriageReturn()

        if firstLine.starts(with: Self.bannerPrefix) {
            return .frame(.banner(String(decoding: firstLine, as: UTF8.self)), consumed: firstLineFeed + 1)
        }
        guard let colon = firstLine.firstIndex(of: .colon, from: 0), colon > 0,
              firstLine[0..<colon].allSatisfy(\.isHeaderNameByte)
        else {
            throw AMIError(.malformedFrame, "a message must start with a 'Key: value' line", detail: Self.preview(firstLine))
        }

        if Self.isFollowsResponse(firstLine) {
            return try followsStep(bytes)
        }
        return try messageStep(bytes, firstLineFeed: firstLineFeed)
    }

    /// Finds the empty line that ends an ordinary message, then builds it. A message's size is its
    /// header lines with their line ends, whether they arrived in one read or many.
    ///
    /// Each line's field span is noted as its end is found, so the bytes are walked once: a
    /// message that arrives in several reads keeps the spans of the lines already seen (up to
    /// `scannedBytes`) in ``scratchSpans``.
    private mutating func messageStep(_ bytes: UnsafeRawBufferPointer, firstLineFeed: Int) throws -> Step {
        let count = bytes.count
        var lineFeed: Int
        if scannedBytes > firstLineFeed {
            lineFeed = scannedBytes
        } else {
            lineFeed = firstLineFeed
            scratchSpans.removeAll(keepingCapacity: true)
            try Self.noteLine(bytes, from: 0, lineFeed: firstLineFeed, in: &scratchSpans)
        }
        try checkMessage(length: lineFeed + 1)
        while true {
            // `lineFeed` is the end of a line; the message ends if the next line is empty.
            let next = lineFeed + 1
            if next < count, bytes[next] == .lf {
                return .frame(.message(try Self.buildMessage(bytes, headerEnd: next, into: &slab, spans: scratchSpans)), consumed: next + 1)
            }
            if next + 1 < count, bytes[next] == .cr, bytes[next + 1] == .lf {
                return .frame(.message(try Self.buildMessage(bytes, headerEnd: next, into: &slab, spans: scratchSpans)), consumed: next + 2)
            }
            guard let following = bytes.firstIndex(of: .lf, from: next) else {
                try checkLine(length: count - next)
                // A lone CR may begin the empty line that ends the message: not a header byte.
                let pendingEnd = count - next == 1 && bytes[next] == .cr
                try checkMessage(length: pendingEnd ? next : count)
                return .needMoreData(scanned: lineFeed)
            }
            try checkLine(length: following - next)
            try checkMessage(length: following + 1)
            try Self.noteLine(bytes, from: next, lineFeed: following, in: &scratchSpans)
            lineFeed = following
        }
    }

    /// Notes the field span of the line `[lineStart, lineFeed)` (its CR dropped): a name and a
    /// value around the first colon, else a value without a name.
    private static func noteLine(
        _ bytes: UnsafeRawBufferPointer, from lineStart: Int, lineFeed: Int, in spans: inout [AMIMessage.FieldSpan]
    ) throws {
        var lineEnd = lineFeed
        if lineEnd > lineStart, bytes[lineEnd - 1] == .cr { lineEnd -= 1 }
        // A plain loop, not memchr: names are a few bytes long, shorter than a call costs.
        var colon = lineStart
        while colon < lineEnd, bytes[colon] != .colon { colon += 1 }
        if colon < lineEnd {
            let valueStart = colon + 1 < lineEnd && bytes[colon + 1] == .space ? colon + 2 : colon + 1
            spans.append(.init(nameStart: UInt32(lineStart), nameEnd: UInt32(colon), valueStart: UInt32(valueStart), valueEnd: UInt32(lineEnd)))
        } else {
            // `UserEvent(Name,free text)` puts free text on its own line. Keep it as a value
            // without a name; text full of control bytes is garbage, not a dialplan's words.
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            if line.contains(where: { $0 < 0x20 && $0 != .tab }) {
                throw AMIError(.malformedFrame, "a header line holds control bytes", detail: preview(line))
            }
            spans.append(.init(nameStart: UInt32(lineStart), nameEnd: UInt32(lineStart), valueStart: UInt32(lineStart), valueEnd: UInt32(lineEnd)))
        }
    }

    /// Frames Asterisk 11-13's `Response: Follows` ... `--END COMMAND--` response.
    private func followsStep(_ bytes: UnsafeRawBufferPointer) throws -> Step {
        guard let marker = bytes.firstRange(of: Self.endCommandMarker) else {
            try checkMessage(length: bytes.count)
            return .needMoreData(scanned: 0)
        }
        // A whole response may arrive in one read, never seen partial: the limits hold here too.
        try checkMessage(length: marker.upperBound)
        // After the marker: the line end, then the empty line that ends every message.
        var cursor = marker.upperBound
        for _ in 0..<2 {
            if cursor < bytes.count, bytes[cursor] == .cr { cursor += 1 }
            guard cursor < bytes.count else { return .needMoreData(scanned: 0) }
            guard bytes[cursor] == .lf else {
                throw AMIError(.malformedFrame, "'--END COMMAND--' is not followed by an empty line")
            }
            cursor += 1
        }

        var builder = AMIMessage.Builder(reservingBytes: marker.lowerBound + 64, fields: 8)
        var lineStart = 0
        var inHeaders = true
        while lineStart < marker.lowerBound {
            let lineEnd = bytes.firstIndex(of: .lf, from: lineStart).map { min($0, marker.lowerBound) } ?? marker.lowerBound
            try checkLine(length: lineEnd - lineStart)
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd]).droppingCarriageReturn()
            // Only `Response`, `Privilege` and `ActionID` precede the raw text; the text itself may
            // contain colons (`sip show peer` prints `Name : value`).
            if inHeaders, let colon = line.firstIndex(of: .colon, from: 0),
               Self.followsHeaderNames.contains(where: { line[0..<colon].equalsCaseInsensitive($0) }) {
                builder.append(name: line[0..<colon], value: line[Self.valueStart(line, colon: colon)...])
            } else {
                inHeaders = false
                builder.append(name: Self.outputName, value: line)
            }
            lineStart = lineEnd + 1
        }
        return .frame(.message(builder.build()), consumed: cursor)
    }

    /// A line's length, its CR included, whole or as far as it has arrived.
    private func checkLine(length: Int) throws {
        if length > limits.maxLineBytes {
            throw AMIError(.lineTooLong, "a line is longer than the \(limits.maxLineBytes)-byte limit")
        }
    }

    private func checkMessage(length: Int) throws {
        if length > limits.maxMessageBytes {
            throw AMIError(.messageTooLarge, "a message is larger than the \(limits.maxMessageBytes)-byte limit")
        }
    }

    /// Copies the header lines `[0, headerEnd)`, whose field spans ``noteLine(_:from:lineFeed:in:)``
    /// noted, into a message.
    private static func buildMessage(
        _ bytes: UnsafeRawBufferPointer, headerEnd: Int, into slab: inout AMIMessage.Slab?, spans: [AMIMessage.FieldSpan]
    ) throws -> AMIMessage {
        let region = UnsafeRawBufferPointer(rebasing: bytes[0..<headerEnd])
        // Asterisk writes C strings: a NUL byte never comes from a real server, only from garbage.
        if memchr(region.baseAddress!, 0, region.count) != nil {
            throw AMIError(.malformedFrame, "NUL byte inside a message")
        }
        return spans.withUnsafeBufferPointer { spans in
            AMIMessage.Slab.append(bytes: region, spans: spans, to: &slab, slabSlots: AMIMessage.Slab.defaultSlots)
        }
    }

    private static func valueStart(_ line: UnsafeRawBufferPointer, colon: Int) -> Int {
        colon + 1 < line.count && line[colon + 1] == .space ? colon + 2 : colon + 1
    }

    private static func isFollowsResponse(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let colon = line.firstIndex(of: .colon, from: 0) else { return false }
        return line[0..<colon].equalsCaseInsensitive(responseName)
            && line[valueStart(line, colon: colon)...].equalsCaseInsensitive(followsValue)
    }

    static func preview(_ line: UnsafeRawBufferPointer) -> String {
        String(decoding: line.prefix(80), as: UTF8.self).unicodeScalars
            .map { $0.value < 0x20 || $0.value == 0x7F ? "?" : String($0) }.joined()
    }

    private static let bannerPrefix = Array("Asterisk Call Manager".utf8)
    private static let endCommandMarker = Array("--END COMMAND--".utf8)
    private static let outputName = Array("Output".utf8)
    private static let responseName = Array("response".utf8)
    private static let followsValue = Array("follows".utf8)
    private static let followsHeaderNames = ["response", "privilege", "actionid"].map { Array($0.utf8) }
}

extension UInt8 {
    static let lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")
    static let colon = UInt8(ascii: ":")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    /// Letters, digits and the punctuation Asterisk uses in keys (`Cause-txt`, `ChanVariable(...)`).
    var isHeaderNameByte: Bool { self > 0x20 && self < 0x7F && self != .colon }
}

extension UnsafeRawBufferPointer {
    /// Index of the first `byte` at or after `start`, found with `memchr` (vectorised in libc).
    func firstIndex(of byte: UInt8, from start: Int) -> Int? {
        guard start < count, let base = baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(byte), count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    func droppingCarriageReturn() -> UnsafeRawBufferPointer {
        guard let last, last == .cr else { return self }
        return UnsafeRawBufferPointer(rebasing: self[0..<(count - 1)])
    }

    func firstRange(of needle: [UInt8]) -> Range<Int>? {
        guard let first = needle.first else { return nil }
        var start = 0
        while let candidate = firstIndex(of: first, from: start) {
            guard candidate + needle.count <= count else { return nil }
            if self[candidate..<(candidate + needle.count)].elementsEqual(needle) {
                return candidate..<(candidate + needle.count)
            }
            start = candidate + 1
        }
        return nil
    }
}

extension Collection<UInt8> {
    func equalsCaseInsensitive(_ other: some Collection<UInt8>) -> Bool {
        count == other.count && zip(self, other).allSatisfy { asciiLowercased($0) == asciiLowercased($1) }
    }
}
