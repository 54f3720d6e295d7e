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
