/// Asterisk's `Timestamp:` header (`timestampevents = yes`): seconds since 1970 with up to six
/// decimals, on every event of a busy dialer.
enum EventTimestamp {
    /// The same value as `Double(text)`, without the general parser for the usual form
    /// `1795615948.123456`: its digits make an integer below 2^53 and the decimals a power of ten
    /// below 10^22, both exact doubles, so one division rounds exactly as `Double(text)` does.
    static func seconds(_ text: String) -> Double? {
        var mantissa: UInt64 = 0
        var digits = 0
        var decimals = 0
        var seenPoint = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard !seenPoint else { return Double(text) }
                seenPoint = true
                continue
            }
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10, digits < 16 else { return Double(text) }
            mantissa = mantissa * 10 + UInt64(digit)
            digits += 1
            if seenPoint { decimals += 1 }
        }
        guard digits > 0, mantissa < 1 << 53 else { return Double(text) }
        return Double(mantissa) / powersOfTen[decimals]
    }

    private static let powersOfTen: [Double] = (0...16).map { power in
        (0..<power).reduce(1.0) { value, _ in value * 10 }
    }
}
