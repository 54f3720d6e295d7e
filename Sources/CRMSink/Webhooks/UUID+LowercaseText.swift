import Foundation

extension UUID {
    /// `uuidString.lowercased()` (the form bodies, headers and the outbox carry), written
    /// straight from the 16 bytes: every delivery needs it, and the Foundation route costs two
    /// string allocations.
    var lowercaseText: String {
        String(unsafeUninitializedCapacity: 36) { text in
            let hex: StaticString = "0123456789abcdef"
            var index = 0
            withUnsafeBytes(of: self.uuid) { bytes in
                hex.withUTF8Buffer { digits in
                    for (offset, byte) in bytes.enumerated() {
                        if offset == 4 || offset == 6 || offset == 8 || offset == 10 {
                            text[index] = UInt8(ascii: "-")
                            index += 1
                        }
                        text[index] = digits[Int(byte >> 4)]
                        text[index + 1] = digits[Int(byte & 0xF)]
                        index += 2
                    }
                }
            }
            return index
        }
    }

    /// Reads the `8-4-4-4-12` hex form (either case), as ``lowercaseText`` writes it; nil for
    /// anything else. The outbox reads one for every claimed delivery, and Foundation's
    /// `UUID(uuidString:)` goes through `sscanf`, which was 6 % of the outbox thread. Public for
    /// the storm benchmark's receiver, which reads one from every webhook it counts.
    public init?(lowercaseText text: String) {
        var text = text
        let parsed: uuid_t? = text.withUTF8 { bytes -> uuid_t? in
            guard bytes.count == 36 else { return nil }
            var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            let valid = withUnsafeMutableBytes(of: &uuid) { out -> Bool in
                var index = 0
                for offset in 0..<16 {
                    if offset == 4 || offset == 6 || offset == 8 || offset == 10 {
                        guard bytes[index] == UInt8(ascii: "-") else { return false }
                        index += 1
                    }
                    guard let high = Self.hexValue(bytes[index]), let low = Self.hexValue(bytes[index + 1]) else { return false }
                    out[offset] = high << 4 | low
                    index += 2
                }
                return true
            }
            return valid ? uuid : nil
        }
        guard let parsed else { return nil }
        self.init(uuid: parsed)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
