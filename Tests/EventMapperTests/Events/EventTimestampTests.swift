@testable import EventMapper
import Testing

/// The fast `Timestamp:` reader gives exactly `Double(text)`.
@Suite("Event timestamps")
struct EventTimestampTests {
    @Test("the same double as Double(text)", arguments: [
        "1795615869.550938", "1795615948.000001", "1795615948.999999", "1764085495.123456", "1764085495",
        "1764085495.1", "0.5", ".5", "1.", "007.25", "4503599627370495", "9007199254740993", "1795615869.5509381",
        "12345678901234567", "", ".", "1..2", "1e3", "-1.5", "+1.5", " 1", "1,5", "inf", "0x10", "1795615869.550938 ",
    ])
    func sameAsDouble(text: String) {
        let fast = EventTimestamp.seconds(text)
        let general = Double(text)
        #expect(fast?.bitPattern == general?.bitPattern, "\(String(describing: fast)) vs \(String(describing: general))")
    }

    @Test("random six-decimal timestamps round exactly as Double(text)")
    func randomTimestamps() async {
        var generator = SystemRandomNumberGenerator()
        var differing: [String] = []
        for round in 0..<20_000 {
            if round % 1_000 == 0 { await Task.yield() }
            let seconds = Int.random(in: 1_000_000_000...2_000_000_000, using: &generator)
            let micros = Int.random(in: 0...999_999, using: &generator)
            let decimals = Int.random(in: 1...6, using: &generator)
            let fraction = String(String(micros + 1_000_000).dropFirst()).prefix(decimals)
            let text = "\(seconds).\(fraction)"
            if EventTimestamp.seconds(text)?.bitPattern != Double(text)?.bitPattern { differing.append(text) }
        }
        #expect(differing.isEmpty, "\(differing.prefix(5))")
    }
}
