import Foundation

/// Date-time text for webhook bodies, written digit by digit: every event carries one or two,
/// and a `DateFormatter` (or `String(format:)`) per event was a tenth of the daemon's CPU in the
/// storm benchmark.
public enum CalendarText {
    /// `2026-01-15 14:32:00` in this host's time zone (ViciDial's `call_date`, the dialer's
    /// local time), or with `utc` the same in UTC followed by nothing else.
    public static func dateTime(_ secondsSince1970: Double, utc: Bool = false, dateTimeSeparator: UInt8 = UInt8(ascii: " "), suffix: String = "") -> String {
        var time = time_t(secondsSince1970.rounded(.down))
        var parts = tm()
        if utc { gmtime_r(&time, &parts) } else { localtime_r(&time, &parts) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(19 + suffix.utf8.count)
        append(Int(parts.tm_year) + 1900, digits: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(Int(parts.tm_mon) + 1, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(Int(parts.tm_mday), digits: 2, to: &bytes)
        bytes.append(dateTimeSeparator)
        append(Int(parts.tm_hour), digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(Int(parts.tm_min), digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(Int(parts.tm_sec), digits: 2, to: &bytes)
        bytes += suffix.utf8
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `2026-01-15T14:32:00Z`: UTC, whole seconds.
    public static func iso8601(_ date: Date) -> String {
        dateTime(date.timeIntervalSince1970, utc: true, dateTimeSeparator: UInt8(ascii: "T"), suffix: "Z")
    }

    private static func append(_ value: Int, digits: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<digits { divisor *= 10 }
        var rest = max(0, value)
        if rest >= divisor * 10 { bytes += String(rest).utf8; return } // a year past 9999
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
