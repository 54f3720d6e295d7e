import EventMapper
import Testing
import ViciDial

/// The SPEC's phone rule: digits with an optional leading +, 7-15 digits once spaces, dashes,
/// dots and parentheses are gone, nothing else.
@Suite struct PhoneNumberTests {
    @Test("separators are removed and a leading + is kept apart", arguments: [
        ("+1 (800) 555-1234", "18005551234", true),
        ("800.555.1234", "8005551234", false),
        (" 555 1234 ", "5551234", false),
        ("123456789012345", "123456789012345", false),
        ("+44 20 7946 0958", "442079460958", true),
    ])
    func accepted(text: String, digits: String, hasCountryCode: Bool) throws {
        let number = try #require(PhoneNumber(text))
        #expect(number.digits == digits)
        #expect(number.hasCountryCode == hasCountryCode)
        #expect(number.description == (hasCountryCode ? "+" : "") + digits)
    }

    @Test("anything else is refused", arguments: [
        "", "555123", "1234567890123456", "800555123a", "1-800-FLOWERS", "8005551234\r\n", "800555\n1234",
        "8005551234\0", "1+8005551234", "++18005551234", "800555*1234", "800555#1234", "800,555,1234", "８００５５５１２３４",
    ])
    func refused(text: String) {
        #expect(PhoneNumber(text) == nil)
    }
}
