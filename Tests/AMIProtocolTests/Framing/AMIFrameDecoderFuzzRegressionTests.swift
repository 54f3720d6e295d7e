import AMIProtocol
import NIOCore
import Testing

/// Inputs from `scripts/fuzz.sh` (FuzzAMIFrameDecoder) that broke a property, kept as they were
/// found: the limits must hold however the bytes arrive, in one read or many.
@Suite("AMI frame decoder: fuzzing regressions")
struct AMIFrameDecoderFuzzRegressionTests {
    static let tightLimits = AMIFrameDecoder.Limits(maxLineBytes: 16, maxMessageBytes: 16)

    /// Decodes `bytes` in reads of `readSize` (all at once when nil); the error's code, nil for none.
    static func decodingError(_ bytes: [UInt8], limits: AMIFrameDecoder.Limits, readSize: Int? = nil) -> AMIError.Code? {
        var decoder = AMIFrameDecoder(limits: limits)
        var buffer = ByteBuffer()
        let readSize = readSize ?? bytes.count
        do {
            for start in stride(from: 0, to: bytes.count, by: readSize) {
                buffer.writeBytes(bytes[start..<min(bytes.count, start + readSize)])
                while try decoder.decode(buffer: &buffer) != nil {}
            }
            return nil
        } catch {
            return (error as? AMIError)?.code
        }
    }

    @Test("crash-7e08b326: a first line over the limit is refused when it arrives whole, as when it arrives in pieces")
    func wholeFirstLineOverLimit() {
        // 25-byte first line, 16-byte line limit: read by read it was `lineTooLong`, in one read
        // the line was never measured and the message limit caught it instead.
        let bytes = Array("ActionID: ch-FFFFFFFFFF1\r\nChalleng\r\n".utf8)
        #expect(Self.decodingError(bytes, limits: Self.tightLimits) == .lineTooLong)
        #expect(Self.decodingError(bytes, limits: Self.tightLimits, readSize: 1) == .lineTooLong)
    }

    @Test("crash-195cb9c3: a message right at the size limit is accepted whole and read by read")
    func messageAtTheLimit() {
        // 16 header bytes (one 15-byte line and its LF) under a 16-byte message limit: whole it
        // was accepted; one byte per read, the CR of the closing empty line was counted as part
        // of the message and it was refused.
        let bytes = Array("ege:venttDictio\n\r\n".utf8)
        #expect(Self.decodingError(bytes, limits: Self.tightLimits) == nil)
        #expect(Self.decodingError(bytes, limits: Self.tightLimits, readSize: 1) == nil)
        let oneMore = Array("ege:venttDictio1\n\r\n".utf8)
        #expect(Self.decodingError(oneMore, limits: .init(maxLineBytes: 32, maxMessageBytes: 16)) == .messageTooLarge)
        #expect(Self.decodingError(oneMore, limits: .init(maxLineBytes: 32, maxMessageBytes: 16), readSize: 1) == .messageTooLarge)
    }

    @Test("a first line over the limit is refused even when its message is complete (a banner too)")
    func completeMessageWithLongFirstLine() {
        let limits = AMIFrameDecoder.Limits(maxLineBytes: 16, maxMessageBytes: 1024)
        #expect(Self.decodingError(Array("Event: \(String(repeating: "x", count: 40))\r\n\r\n".utf8), limits: limits) == .lineTooLong)
        #expect(Self.decodingError(Array("Asterisk Call Manager/9.0.0 and more\r\n".utf8), limits: limits) == .lineTooLong)
    }

    @Test("Asterisk 11's Follows response is held to the limits when it arrives in one read")
    func wholeFollowsResponseOverLimits() {
        let output = String(repeating: "channel line\n", count: 100)
        let response = Array("Response: Follows\r\nPrivilege: Command\r\n\(output)--END COMMAND--\r\n\r\n".utf8)
        let limits = AMIFrameDecoder.Limits(maxLineBytes: 64, maxMessageBytes: 1024)
        #expect(Self.decodingError(response, limits: limits) == .messageTooLarge)
        #expect(Self.decodingError(response, limits: limits, readSize: 7) == .messageTooLarge)

        let longLine = Array("Response: Follows\r\n\(String(repeating: "y", count: 100))\n--END COMMAND--\r\n\r\n".utf8)
        #expect(Self.decodingError(longLine, limits: limits) == .lineTooLong)
        #expect(Self.decodingError(longLine, limits: limits, readSize: 7) == .lineTooLong)
    }
}
