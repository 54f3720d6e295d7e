import EventMapper
import MariaDB
import ViciDial

extension ViciDialTimeBound {
    /// An ISO 8601 date or datetime as a query parameter gives it (`since=`):
    ///
    /// - `2026-01-15`: from midnight, in the database server's local time, the clock ViciDial
    ///   writes its times in;
    /// - `2026-01-15T14:32` or `2026-01-15T14:32:05(.123)` (a space may stand for the `T`):
    ///   that local time;
    /// - the same with `Z`, `+02:00`, `+0200` or `+02`: that instant, whatever the server's zone.
    ///
    /// nil for anything else, including impossible dates (`2026-02-30`) and times (`24:00`).
    init?(iso8601 text: String) {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.number(digits: 4), year >= 1000, scanner.skip("-"),
              let month = scanner.number(digits: 2), scanner.skip("-"),
              let day = scanner.number(digits: 2), Self.isValidDate(year: year, month: month, day: day)
        else { return nil }
        let date = "\(year)-\(Self.twoDigits(month))-\(Self.twoDigits(day))"
        if scanner.isAtEnd {
            self = .localTime(date + " 00:00:00")
            return
        }
        guard scanner.skip("T") || scanner.skip("t") || scanner.skip(" "),
              let hour = scanner.number(digits: 2), hour < 24, scanner.skip(":"),
              let minute = scanner.number(digits: 2), minute < 60
        else { return nil }
        var second = 0
        var fraction = ""
        if scanner.skip(":") {
            guard let value = scanner.number(digits: 2), value < 60 else { return nil }
            second = value
            if scanner.skip(".") || scanner.skip(",") {
                fraction = scanner.digits()
                guard (1...9).contains(fraction.count) else { return nil }
            }
        }
        let fractionIsZero = fraction.allSatisfy { $0 == "0" }
        if scanner.isAtEnd {
            // MariaDB compares a DATETIME with fractional seconds (up to 6 digits) exactly.
            let micro = fractionIsZero ? "" : "." + fraction.prefix(6)
            self = .localTime("\(date) \(Self.twoDigits(hour)):\(Self.twoDigits(minute)):\(Self.twoDigits(second))\(micro)")
            return
        }
        guard let offset = scanner.utcOffset(), scanner.isAtEnd else { return nil }
        let days = Self.daysSince1970(year: year, month: month, day: day)
        let epoch = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        // A bound inside a second includes nothing of that second: epochs are whole seconds.
        self = .epoch(epoch + (fractionIsZero ? 0 : 1))
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func isValidDate(year: Int, month: Int, day: Int) -> Bool {
        guard (1...12).contains(month) else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...days).contains(day)
    }

    /// Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's `days_from_civil`).
    private static func daysSince1970(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Reads ASCII from the front of the text.
    private struct Scanner {
        var bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        /// Exactly `count` digits as a number.
        mutating func number(digits count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }

        /// Every digit from here on.
        mutating func digits() -> String {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        /// `Z`, `±HH`, `±HHMM` or `±HH:MM` as seconds east of UTC.
        mutating func utcOffset() -> Int? {
            if skip("Z") || skip("z") { return 0 }
            let sign: Int
            if skip("+") {
                sign = 1
            } else if skip("-") {
                sign = -1
            } else {
                return nil
            }
            guard let hours = number(digits: 2), hours <= 14 else { return nil }
            var minutes = 0
            if !isAtEnd {
                _ = skip(":")
                guard let value = number(digits: 2), value < 60 else { return nil }
                minutes = value
            }
            return sign * (hours * 3600 + minutes * 60)
        }
    }
}
