/// A fixed list of words (header names, or values such as event names) matched against a
/// message's bytes without making strings. Built once (a `static let`), used for every message:
/// this is how a reader that wants many fields of a busy dialer's events keeps up (the call
/// tracker reads each event in one pass instead of one scan per field).
public struct AMIKeywords: Sendable {
    /// Words longer than this cannot be listed (no AMI header name comes close).
    public static let maximumLength = 63
    /// At most this many words per list.
    public static let maximumCount = 64

    /// Some of the words, by index: what one reader wants of a longer list.
    public struct Selection: Sendable {
        fileprivate var mask: UInt64
    }

    public let words: [String]
    public let ignoringCase: Bool
    /// Every word's bytes (lowercased when ignoring case), back to back.
    private let storage: [UInt8]
    private let starts: [Int]
    /// A bit per word in the bucket of its length, first and last byte: most bytes compared
    /// against the list (a header name nobody asked for) find an empty bucket and stop there.
    private let buckets: [UInt64]

    /// - Parameter ignoringCase: header names are case-insensitive (`UniqueID` on Asterisk 11,
    ///   `Uniqueid` on 20); values such as event names are compared exactly.
    public init(_ words: [String], ignoringCase: Bool) {
        precondition(words.count <= Self.maximumCount, "at most \(Self.maximumCount) keywords")
        var storage: [UInt8] = []
        var starts: [Int] = []
        var buckets = [UInt64](repeating: 0, count: Self.bucketCount)
        for (index, word) in words.enumerated() {
            var bytes = Array(word.utf8)
            precondition(!bytes.isEmpty && bytes.count <= Self.maximumLength, "keyword '\(word)' is empty or too long")
            if ignoringCase { lowercaseASCII(&bytes) }
            starts.append(storage.count)
            storage += bytes
            buckets[Self.bucket(count: bytes.count, first: bytes[0], last: bytes[bytes.count - 1])] |= 1 << UInt64(index)
        }
        starts.append(storage.count)
        self.words = words
        self.ignoringCase = ignoringCase
        self.storage = storage
        self.starts = starts
        self.buckets = buckets
    }

    /// Every word.
    public var all: Selection { Selection(mask: words.count == 64 ? .max : (1 << UInt64(words.count)) - 1) }

    /// The words at these indices.
    public func selection(_ indices: some Sequence<Int>) -> Selection {
        Selection(mask: indices.reduce(0) { mask, index in
            precondition(words.indices.contains(index), "no keyword at \(index)")
            return mask | 1 << UInt64(index)
        })
    }

    private static let bucketCount = 256

    private static func bucket(count: Int, first: UInt8, last: UInt8) -> Int {
        (count &* 31 &+ Int(first) &* 7 &+ Int(last)) & (bucketCount - 1)
    }

    /// The index of the listed word equal to `bytes` among `candidates`.
    @inline(__always)
    func index(of bytes: UnsafeBufferPointer<UInt8>, among candidates: UInt64) -> Int? {
        let count = bytes.count
        guard count > 0, count <= Self.maximumLength else { return nil }
        let first = ignoringCase ? asciiLowercased(bytes[0]) : bytes[0]
        let last = ignoringCase ? asciiLowercased(bytes[count - 1]) : bytes[count - 1]
        var remaining = buckets[Self.bucket(count: count, first: first, last: last)] & candidates
        while remaining != 0 {
            let index = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            if matches(index, bytes) { return index }
        }
        return nil
    }

    private func matches(_ index: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[index]
        guard starts[index + 1] - start == bytes.count else { return false }
        return storage.withUnsafeBufferPointer { word in
            if ignoringCase {
                for offset in 0..<bytes.count where asciiLowercased(bytes[offset]) != word[start + offset] { return false }
            } else {
                for offset in 0..<bytes.count where bytes[offset] != word[start + offset] { return false }
            }
            return true
        }
    }
}

/// The first value of each of a list of header names in one message (see
/// ``AMIMessage/firstValues(of:)``), addressed by the name's index in the list.
public struct AMIFieldValues: Sendable {
    private let message: AMIMessage
    /// Field index per name, -1 when absent.
    private var fieldIndices: SIMD64<Int32>

    fileprivate init(message: AMIMessage, fieldIndices: SIMD64<Int32>) {
        self.message = message
        self.fieldIndices = fieldIndices
    }

    /// The field of the name at `index`, -1 when absent. (Read through a pointer: a dynamic
    /// lane of a 64-lane vector would copy the whole vector.)
    private func fieldIndex(_ index: Int) -> Int {
        precondition(index >= 0 && index < 64, "no keyword at \(index)")
        return withUnsafeBytes(of: fieldIndices) { Int($0.load(fromByteOffset: index * 4, as: Int32.self)) }
    }

    /// The value of the name at `index` in the list, or nil when the message lacks it.
    public subscript(index: Int) -> String? {
        let field = fieldIndex(index)
        guard field >= 0 else { return nil }
        return message.withFields { spans, bytes in string(bytes, spans[field].valueStart, spans[field].valueEnd) }
    }

    public func contains(_ index: Int) -> Bool { fieldIndex(index) >= 0 }

    /// Whether the value of the name at `index` is exactly `text`, without making a string.
    public func value(_ index: Int, equals text: String) -> Bool {
        let field = fieldIndex(index)
        guard field >= 0 else { return false }
        var text = text
        return text.withUTF8 { expected in
            message.withFields { spans, bytes in
                bytes[Int(spans[field].valueStart)..<Int(spans[field].valueEnd)].elementsEqual(expected)
            }
        }
    }
}

extension AMIMessage {
    /// The first value of every selected name of `names` (a list made with `ignoringCase:
    /// true`), found in one pass over the fields.
    public func firstValues(of names: AMIKeywords, _ selection: AMIKeywords.Selection? = nil) -> AMIFieldValues {
        var found = SIMD64<Int32>(repeating: -1)
        var missing = (selection ?? names.all).mask
        withUnsafeMutableBytes(of: &found) { found in
            withFields { spans, bytes in
                for fieldIndex in spans.indices {
                    if missing == 0 { break }
                    let span = spans[fieldIndex]
                    let name = UnsafeBufferPointer(rebasing: bytes[Int(span.nameStart)..<Int(span.nameEnd)])
                    guard let index = names.index(of: name, among: missing) else { continue }
                    found.storeBytes(of: Int32(truncatingIfNeeded: fieldIndex), toByteOffset: index * 4, as: Int32.self)
                    missing &= ~(1 << UInt64(index))
                }
            }
        }
        return AMIFieldValues(message: self, fieldIndices: found)
    }

    /// Where the value of the first `name` field (case-insensitive) stands in `values` (a list of
    /// exact words, such as event names); nil when the field is absent or its value is not listed.
    public func firstValue(of name: String, in values: AMIKeywords) -> Int? {
        withFields { spans, bytes in
            guard let field = Self.firstIndex(of: name, spans, bytes) else { return nil }
            let span = spans[field]
            return values.index(of: UnsafeBufferPointer(rebasing: bytes[Int(span.valueStart)..<Int(span.valueEnd)]), among: values.all.mask)
        }
    }
}
