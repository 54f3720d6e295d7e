import CRMSink
import Foundation
import Testing

/// The hand-written date-time text says what Foundation's formatter says, for instants across
/// years, month ends, leap days and both time zones.
@Suite struct CalendarTextTests {
    static let instants: [Double] = [0, 951_782_400, 1_709_251_199, 1_768_487_520.9, 1_798_761_599, 4_102_444_800]

    @Test(arguments: instants)
    func localDateTimeMatchesFoundation(seconds: Double) {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        #expect(CalendarText.dateTime(seconds) == formatter.string(from: Date(timeIntervalSince1970: seconds.rounded(.down))))
    }

    @Test(arguments: instants)
    func iso8601MatchesFoundation(seconds: Double) {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        #expect(CalendarText.iso8601(Date(timeIntervalSince1970: seconds)) == formatter.string(from: Date(timeIntervalSince1970: seconds.rounded(.down))))
    }
}
