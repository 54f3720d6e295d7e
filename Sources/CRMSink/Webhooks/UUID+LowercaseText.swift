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
}
