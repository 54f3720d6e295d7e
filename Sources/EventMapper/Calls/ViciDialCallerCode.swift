import Foundation

/// ViciDial's call key: a 20-character caller ID name such as `M5251411420000001234`: a type
/// letter (`V` auto-dial, `M` manual dial, `Y` inbound, ...), 9 date characters, and the lead_id
/// zero-padded to 10 digits.
public struct ViciDialCallerCode: Sendable, Hashable {
    public var code: String
    public var type: Character
    public var leadID: Int

    /// Nil unless `text` is exactly a letter and 19 digits.
    public init?(_ text: String) {
        let utf8 = text.utf8
        guard utf8.count == 20, let first = utf8.first, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first),
              utf8.dropFirst().allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let lead = Int(text.suffix(10))
        else { return nil }
        code = text
        type = Character(UnicodeScalar(first))
        leadID = lead
    }
}

extension ViciDialCallerCode {
    /// The code ViciDial gives a manual dial of `leadID` at `date`: `M`, then `mdHis` in the box's
    /// local time with its first character dropped, then the lead_id zero-padded to 10 digits.
    /// A click-to-call carrying it is joined to its `vicidial_log` row like ViciDial's own calls.
    public static func manualDial(leadID: Int, at date: Date, timeZone: TimeZone = .current) -> ViciDialCallerCode? {
        guard (0...9_999_999_999).contains(leadID) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.month, .day, .hour, .minute, .second], from: date)
        let stamp = [parts.month, parts.day, parts.hour, parts.minute, parts.second]
            .map { String(format: "%02d", $0 ?? 0) }.joined().dropFirst()
        let lead = String(leadID)
        return ViciDialCallerCode("M" + stamp + String(repeating: "0", count: 10 - lead.count) + lead)
    }
}
