#if canImport(Glibc)
import Glibc
#endif

/// Byte searches for the storm's hot loops (the daemon's log lines, every webhook body the
/// receiver gets): no `String` is made to look for a marker.
extension UnsafeRawBufferPointer {
    /// Whether `needle` occurs in these bytes.
    func contains(_ needle: StaticString) -> Bool {
        self.range(of: needle) != nil
    }

    /// memchr for the first byte, memcmp for the rest (Glibc's memmem is not imported).
    func range(of needle: StaticString) -> Range<Int>? {
        let length = needle.utf8CodeUnitCount
        guard length > 0, self.count >= length, let base = self.baseAddress else { return nil }
        var from = 0
        while from <= self.count - length {
            guard let hit = memchr(base + from, Int32(needle.utf8Start.pointee), self.count - length + 1 - from) else { return nil }
            let offset = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(hit, needle.utf8Start, length) == 0 { return offset..<(offset + length) }
            from = offset + 1
        }
        return nil
    }

    /// The decimal number right after `marker`, if any.
    func number(after marker: StaticString) -> Int? {
        guard let range = self.range(of: marker) else { return nil }
        let digits = self[range.upperBound...].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return digits.isEmpty ? nil : Int(String(decoding: digits, as: UTF8.self))
    }
}
