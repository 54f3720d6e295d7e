/// A fixed list of words (header names, or values such as event names) matched against a
/// message's bytes without making strings. Built once (a `static let`), used for every message:
/// this is how a reader that wants many fields of a busy dialer's events keeps up (the call
/// tracker reads each event in one pass instead of one scan per field).
public struct AMIKeywords: Sendable {
    /// Words longer than this cannot be listed (no AMI header name comes close).
    public static let maximumLength = 63
    /// At most this many words per list.
    public static let maximumCount = 64

    public let words: [String]
    public let ignoringCase: Bool
    /// Every word's bytes (lowercased when ignoring case), back to back.
    private let storage: [UInt8]
    private let starts: [Int]
    /// For each length, a bit per word of that length.
    private let wordsByLength: [UInt64]

    /// - Parameter ignoringCase: header names are case-insensitive (`UniqueID` on Asterisk 11,
    ///   `Uniqueid` on 20); values such as event names are compared exactly.
    public init(_ words: [String], ignoringCase: Bool) {
        precondition(words.count <= Self.maximumCount, "at most \(Self.maximumCount) keywords")
        var storage: [UInt8] = []
        var starts: [Int] = []
        var byLength = [UInt64](repeating: 0, count: Self.maximumLength + 1)
        for (index, word) in words.enumerated() {
            var bytes = Array(word.utf8)
            precondition(bytes.count <= Self.maximumLength, "keyword '\(word)' is too long")
            if ignoringCase { lowercaseASCII(&bytes) }
            starts.append(storage.count)
            storage += bytes
            byLength[bytes.count] |= 1 << UInt64(index)
        }
        starts.append(storage.count)
        self.words = words
        self.ignoringCase = ignoringCase
        self.storage = storage
        self.starts = starts
        self.wordsByLength = byLength
    }

    /// The index of the first listed word equal to `bytes` among those still in `candidates`.
    func index(of bytes: UnsafeBufferPointer<UInt8>, among candidates: UInt64 = .max) -> Int? {
        guard bytes.count <= Self.maximumLength else { return nil }
        var remaining = wordsByLength[bytes.count] & candidates
        while remaining != 0 {
            let index = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            if matches(index, bytes) { return index }
        }
        return nil
    }

    private func matches(_ index: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[index]
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

    /// The value of the name at `index` in the list, or nil when the message lacks it.
    public subscript(index: Int) -> String? {
        let field = Int(fieldIndices[index])
        guard field >= 0 else { return nil }
        let span = message.spans[field]
        return string(message.bytes, span.valueStart, span.valueEnd)
    }

    public func contains(_ index: Int) -> Bool { fieldIndices[index] >= 0 }

    /// Whether the value of the name at `index` is exactly `text`, without making a string.
    public func value(_ index: Int, equals text: String) -> Bool {
        let field = Int(fieldIndices[index])
        guard field >= 0 else { return false }
        let span = message.spans[field]
        var text = text
        return text.withUTF8 { expected in
            message.bytes[Int(span.valueStart)..<Int(span.valueEnd)].elementsEqual(expected)
        }
    }
}

extension AMIMessage {
    /// The first value of every name in `names` (a list made with `ignoringCase: true`), found in
    /// one pass over the fields.
    public func firstValues(of names: AMIKeywords) -> AMIFieldValues {
        var found = SIMD64<Int32>(repeating: -1)
        var missing: UInt64 = names.words.count == 64 ? .max : (1 << UInt64(names.words.count)) - 1
        bytes.withUnsafeBufferPointer { bytes in
            for (fieldIndex, span) in spans.enumerated() {
                if missing == 0 { break }
                let name = UnsafeBufferPointer(rebasing: bytes[Int(span.nameStart)..<Int(span.nameEnd)])
                guard let index = names.index(of: name, among: missing) else { continue }
                found[index] = Int32(truncatingIfNeeded: fieldIndex)
                missing &= ~(1 << UInt64(index))
            }
        }
        return AMIFieldValues(message: self, fieldIndices: found)
    }

    /// Where the value of the first `name` field (case-insensitive) stands in `values` (a list of
    /// exact words, such as event names); nil when the field is absent or its value is not listed.
    public func firstValue(of name: String, in values: AMIKeywords) -> Int? {
        guard let field = firstIndex(of: name) else { return nil }
        let span = spans[field]
        return bytes.withUnsafeBufferPointer { bytes in
            values.index(of: UnsafeBufferPointer(rebasing: bytes[Int(span.valueStart)..<Int(span.valueEnd)]))
        }
    }
}
