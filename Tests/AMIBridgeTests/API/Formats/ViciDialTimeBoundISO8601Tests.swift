@testable import AMIBridge
import EventMapper
import Testing
import ViciDial

/// `since=` values: dates and local datetimes stay in ViciDial's clock, zoned ones become instants.
@Suite struct ViciDialTimeBoundISO8601Tests {
    @Test("dates and datetimes without an offset are the database's local time", arguments: [
        ("2026-01-15", "2026-01-15 00:00:00"),
        ("2026-01-15T14:32", "2026-01-15 14:32:00"),
        ("2026-01-15T14:32:05", "2026-01-15 14:32:05"),
        ("2026-01-15 14:32:05", "2026-01-15 14:32:05"),
        ("2026-01-15T14:32:05.000", "2026-01-15 14:32:05"),
        ("2026-01-15T14:32:05.25", "2026-01-15 14:32:05.25"),
        ("2024-02-29T23:59:59", "2024-02-29 23:59:59"),
    ])
    func local(text: String, time: String) {
        #expect(ViciDialTimeBound(iso8601: text) == .localTime(time))
    }

    @Test("an offset makes an instant", arguments: [
        ("2026-01-15T14:32:00Z", 1_768_487_520),
        ("2026-01-15T16:32:00+02:00", 1_768_487_520),
        ("2026-01-15T09:02:00-0530", 1_768_487_520),
        ("2026-01-15T15:32:00+01", 1_768_487_520),
        ("2026-01-15T14:32:00.001Z", 1_768_487_521),
        ("2024-02-29T23:59:59Z", 1_709_251_199),
    ])
    func instant(text: String, epoch: Int64) {
        #expect(ViciDialTimeBound(iso8601: text) == .epoch(epoch))
    }

    @Test("anything else is refused", arguments: [
        "", "yesterday", "2026-1-15", "2026-13-01", "2026-02-30", "2023-02-29", "0999-01-01", "2026-01-15T24:00",
        "2026-01-15T14:60", "2026-01-15T14:32:60", "2026-01-15T14", "2026-01-15T14:32:00+15:00", "2026-01-15T14:32:00 Z",
        "2026-01-15T14:32:00Zjunk", "2026-01-15T14:32:05.", "2026-01-15\r\n", "1768487520",
    ])
    func refused(text: String) {
        #expect(ViciDialTimeBound(iso8601: text) == nil)
    }
}
