@testable import EventMapper
import Testing

/// The byte-level readers of a record's fields agree with the Character-level ones they replaced.
@Suite("Reading a call's legs")
struct CallRecordReadingTests {
    /// `dialedNumber` as it was: split on `/` and `@` (empty parts omitted), then digits.
    static func splitDialedNumber(_ dialString: String?) -> String? {
        guard let dialString else { return nil }
        let last = dialString.split(separator: "/").last.map(String.init) ?? dialString
        let number = last.split(separator: "@").first.map(String.init) ?? last
        let digits = number.drop { $0 == "+" }
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber) else { return nil }
        return number
    }

    @Test("the dialed number, as splitting gave it", arguments: [
        "SIP/carrier/18005551234", "18005551234@pstn", "Local/18005551002@pstn", "SIP/carrier/+18005551234",
        "SIP/carrier/", "SIP//18005551234//", "@@18005551234@@x", "/", "@", "", "++", "+", "1800 555", "SIP/carrier/1800x",
        "SIP/carrier/١٢٣", "SIP/carrier/18005551234/", "DAHDI/g1/18005551234", "IAX2/user@host/18005551234",
    ])
    func dialedNumber(dialString: String) {
        #expect(CallTracker.dialedNumber(dialString) == Self.splitDialedNumber(dialString))
    }

    @Test("isLocal and the Local pair name", arguments: [
        ("Local/1001@agents-00000001;1", true, "Local/1001@agents-00000001"),
        ("Local/1001@agents-00000001;2", true, "Local/1001@agents-00000001"),
        ("Local/", true, nil),
        ("SIP/1001-00000001", false, nil),
        ("Locally/1001", false, nil),
        ("Local/\u{301}x;1", false, nil),
    ] as [(String, Bool, String?)])
    func local(channel: String, isLocal: Bool, pairName: String?) {
        let leg = CallLeg(uniqueid: "1.1", channel: channel, createdAt: 0)
        #expect(leg.isLocal == isLocal)
        #expect(leg.isLocal == channel.hasPrefix("Local/"))
        #expect(leg.localPairName.map(String.init) == pairName)
    }
}
