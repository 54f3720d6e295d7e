import AMIProtocol
import AMITestSupport
import NIOCore
import NIOTestUtils
import Testing

@Suite("AMI frame decoder")
struct AMIFrameDecoderTests {
    /// Splits recorded Asterisk 20 bytes into (message bytes, expected message) pairs with a
    /// deliberately naive oracle: messages end at CRLF CRLF, values start after the first ": ".
    static func oraclePairs(_ capture: AMICapture) -> [(ByteBuffer, [AMIFrame])] {
        var text = String(decoding: capture.receivedBytes, as: UTF8.self)
        var pairs: [(ByteBuffer, [AMIFrame])] = []
        if let bannerEnd = text.range(of: "\r\n"), text.hasPrefix("Asterisk Call Manager/") {
            let banner = String(text[..<bannerEnd.lowerBound])
            pairs.append((ByteBuffer(string: banner + "\r\n"), [.banner(banner)]))
            text = String(text[bannerEnd.upperBound...])
        }
        for block in text.components(separatedBy: "\r\n\r\n") where !block.isEmpty {
            let fields = block.components(separatedBy: "\r\n").map { line -> (name: String, value: String) in
                let separator = line.range(of: ": ") ?? line.range(of: ":")!
                return (String(line[..<separator.lowerBound]), String(line[separator.upperBound...]))
            }
            pairs.append((ByteBuffer(string: block + "\r\n\r\n"), [.message(AMIMessage(fields))]))
        }
        return pairs
    }

    /// The verifier feeds every pair byte by byte through an EmbeddedChannel, which is slow in a
    /// debug build; the first messages of each recording cover every shape (the socket-level
    /// replays feed whole recordings one byte per write).
    @Test("recorded messages decode as the oracle says, however the bytes are split", arguments: [
        "originate-answered", "command-and-misc", "coreshowchannels-midcall", "login-md5-challenge",
        "sip-originate-vicidial-callercode", "originate-vicidial-callercode-timestamps",
    ])
    func verifierOnCaptures(name: String) throws {
        let pairs = Array(Self.oraclePairs(try AMICapture.load("asterisk-20", name)).prefix(16))
        #expect(pairs.count > 3)
        // Feeds each input whole, byte by byte, and all inputs in shuffled order.
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { AMIFrameDecoder() }
    }

    @Test("bare LF line ends decode like CRLF")
    func bareLineFeeds() throws {
        let crlf = "Event: Hangup\r\nChannel: SIP/1001-0001\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n"
        let lf = crlf.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(try decodeAll(lf) == decodeAll(crlf))
        #expect(try decodeAll(lf).count == 1)
    }

    @Test("a value keeps everything after the first colon; keys repeat in order; lookup ignores case")
    func fieldRules() throws {
        let frames = try decodeAll("Response: Success\r\nActionID: x\r\nHeader1: value: with colon\r\nOutput: a\r\nOutput: b\r\nEmpty: \r\nUniqueID: 1.2\r\n\r\n")
        guard case .message(let message) = try #require(frames.first) else { Issue.record("not a message"); return }
        #expect(message["Header1"] == "value: with colon")
        #expect(message.outputLines == ["a", "b"])
        #expect(message["Empty"] == "")
        #expect(message["uniqueid"] == "1.2")
        #expect(message["Uniqueid"] == "1.2")
        #expect(message["Missing"] == nil)
        #expect(message.fields.map(\.name) == ["Response", "ActionID", "Header1", "Output", "Output", "Empty", "UniqueID"])
    }

    @Test("Asterisk 11's Response: Follows output becomes Output lines, blank lines and colons included")
    func legacyCommandOutput() throws {
        let capture = try AMICapture.load("asterisk-11-synthetic", "command-follows")
        let messages = try decodeAll(String(decoding: capture.receivedBytes, as: UTF8.self)).compactMap { frame -> AMIMessage? in
            if case .message(let message) = frame { return message }
            return nil
        }
        let outputs = messages.filter { $0.response == "Follows" }
        #expect(outputs.count == 3)
        #expect(outputs[0].actionID == "cmd-1")
        #expect(outputs[0].outputLines == ["Asterisk 11.25.3 built by root @ pbx01 on a x86_64 running Linux on 2017-09-25 09:14:37 UTC"])
        #expect(outputs[1].outputLines.count == 6)
        #expect(outputs[1].outputLines.last == "214 calls processed")
        #expect(outputs[2].outputLines.first?.hasPrefix("No such command 'sip show peerz'") == true)

        // Output text with an empty line and a "Key : value" line stays output, not headers.
        let tricky = "Response: Follows\r\nPrivilege: Command\r\nActionID: c\r\n  Name       : 1001\n\nlast line--END COMMAND--\r\n\r\n"
        let frames = try decodeAll(tricky)
        guard case .message(let message) = try #require(frames.first) else { Issue.record("not a message"); return }
        #expect(message.actionID == "c")
        #expect(message.outputLines == ["  Name       : 1001", "", "last line"])
        #expect(frames.count == 1)
    }

    @Test("free text lines of a dialplan UserEvent are kept as unnamed values")
    func userEventFreeText() throws {
        let frames = try decodeAll("Event: UserEvent\r\nUserEvent: CRMEvent\r\njust some words\r\n\r\n")
        guard case .message(let message) = try #require(frames.first) else { Issue.record("not a message"); return }
        #expect(message.fields.last == AMIField(name: "", value: "just some words"))
    }

    @Test("a line longer than the limit is an error, not a growing buffer")
    func longLine() throws {
        var decoder = AMIFrameDecoder(limits: .init(maxLineBytes: 1024, maxMessageBytes: 4096))
        var buffer = ByteBuffer(string: "Event: Test\r\nValue: " + String(repeating: "x", count: 2000))
        #expect { try decoder.decode(buffer: &buffer) } throws: { ($0 as? AMIError)?.code == .lineTooLong }
    }

    @Test("a message larger than the limit is an error")
    func largeMessage() throws {
        var decoder = AMIFrameDecoder(limits: .init(maxLineBytes: 1024, maxMessageBytes: 4096))
        var buffer = ByteBuffer(string: "Event: Test\r\n" + String(repeating: "Key: value\r\n", count: 1000))
        #expect { try decoder.decode(buffer: &buffer) } throws: { ($0 as? AMIError)?.code == .messageTooLarge }
    }

    @Test("garbage is an error: a first line without a key, a NUL byte, control bytes")
    func garbage() throws {
        for text in ["\u{01}\u{02}garbage\r\n\r\n", "Event: X\r\nKey: a\u{0}b\r\n\r\n", "Event: X\r\n\u{07}\u{08}\u{1b}[31m\r\n\r\n"] {
            var decoder = AMIFrameDecoder()
            var buffer = ByteBuffer(string: text)
            #expect(throws: AMIError.self) { try decoder.decode(buffer: &buffer) }
        }
    }

    @Test("a non-UTF-8 caller name (Latin-1 from a SIP trunk) decodes with replacement, not an error")
    func latin1Value() throws {
        var bytes = Array("Event: Newchannel\r\nCallerIDName: Jos".utf8)
        bytes.append(0xE9) // é in Latin-1
        bytes += Array("\r\n\r\n".utf8)
        var decoder = AMIFrameDecoder()
        var buffer = ByteBuffer(bytes: bytes)
        guard case .message(let message) = try #require(try decoder.decode(buffer: &buffer)) else { Issue.record("not a message"); return }
        #expect(message["CallerIDName"] == "Jos\u{FFFD}")
    }

    func decodeAll(_ text: String) throws -> [AMIFrame] {
        var decoder = AMIFrameDecoder()
        var buffer = ByteBuffer(string: text)
        var frames: [AMIFrame] = []
        while let frame = try decoder.decode(buffer: &buffer) { frames.append(frame) }
        #expect(buffer.readableBytes == 0)
        return frames
    }
}
