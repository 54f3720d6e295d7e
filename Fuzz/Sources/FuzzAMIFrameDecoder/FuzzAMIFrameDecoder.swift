import AMIProtocol
import FuzzSupport
import NIOCore

// Fuzzes `AMIFrameDecoder` with any bytes, cut into reads at points the input chooses.
//
// Input: one byte for the limits (255: the defaults, else small ones the input can reach), three
// bytes that seed the read sizes (1 byte to 4 KiB), then the bytes Asterisk would send.
// Properties: no crash; the bytes decoded whole and read by read give the same frames and the
// same error (or both a size error); no frame exceeds the limits; the decoder never keeps more than a message's worth of
// bytes waiting (`maxMessageBytes`), however the input goes on.

/// Writes the seeds when asked (`AMIBRIDGE_FUZZ_SEEDS`), else runs libFuzzer.
@_cdecl("FuzzAMIFrameDecoder_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    SeedCorpus.writeIfAsked {
        RecordedSessions.load().sessions.map { session in
            (session.name, [255, 0x5A, 0x3C, 0x0F] + session.received)
        }
    }
    return runLibFuzzer(argc, argv, fuzzFrameDecoder)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let limits = DecoderRun.limits(input.byte())
    let reads = ReadSizes(seed: (input.byte(), input.byte(), input.byte()))
    let bytes = input.remaining

    let whole = DecoderRun(limits: limits, bytes: bytes, readSizes: nil)
    let byReads = DecoderRun(limits: limits, bytes: bytes, readSizes: reads)
    fuzzCheck(whole.frames == byReads.frames, "frames differ: \(whole.frames.count) whole, \(byReads.frames.count) read by read")
    // The same error; only when a line and the message are both too long may the reads decide
    // which limit is noticed first.
    let sizeErrors: Set<AMIError.Code?> = [.lineTooLong, .messageTooLarge]
    fuzzCheck(whole.error == byReads.error || (sizeErrors.contains(whole.error) && sizeErrors.contains(byReads.error)),
              "errors differ: \(String(describing: whole.error)) whole, \(String(describing: byReads.error)) read by read")
    for frame in whole.frames {
        let size = frame.minimumSize
        fuzzCheck(size.longestLine <= limits.maxLineBytes, "a \(size.longestLine)-byte line passed the \(limits.maxLineBytes)-byte limit")
        fuzzCheck(size.total <= limits.maxMessageBytes + 1, "a \(size.total)-byte message passed the \(limits.maxMessageBytes)-byte limit")
        if case .message(let message) = frame {
            _ = (message.eventName, message.actionID, message.isResponse, message.isSuccessResponse, message.eventList, message.wireText)
        }
    }
    return 0
}

/// Read sizes from a tiny xorshift generator: the input picks the seed and the largest read.
struct ReadSizes {
    private var state: UInt32
    private let largest: Int

    init(seed: (UInt8, UInt8, UInt8)) {
        state = UInt32(seed.0) << 16 | UInt32(seed.1) << 8 | UInt32(seed.2) | 1
        largest = 1 << Int(seed.0 % 13)
    }

    mutating func next() -> Int {
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return 1 + Int(state % UInt32(largest))
    }
}

/// One pass of the decoder over the bytes, as `ByteToMessageHandler` drives it: after every
/// read, frames until it needs more; at the end, `decodeLast`.
struct DecoderRun {
    var frames: [AMIFrame] = []
    var error: AMIError.Code?

    static func limits(_ choice: UInt8) -> AMIFrameDecoder.Limits {
        guard choice != 255 else { return .init() }
        let line = 16 + Int(choice & 0x0F) * 64
        return .init(maxLineBytes: line, maxMessageBytes: line * (1 + Int(choice >> 4)))
    }

    init(limits: AMIFrameDecoder.Limits, bytes: UnsafeRawBufferPointer, readSizes: ReadSizes?) {
        var readSizes = readSizes
        var decoder = AMIFrameDecoder(limits: limits)
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        var offset = 0
        do {
            while offset < bytes.count {
                var size = bytes.count - offset
                if readSizes != nil { size = min(readSizes!.next(), size) }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + size)]))
                offset += size
                while let frame = try decoder.decode(buffer: &buffer) { frames.append(frame) }
                // Bounded memory: what waits is at most one message (and its closing empty line).
                fuzzCheck(buffer.readableBytes <= limits.maxMessageBytes + 4, "\(buffer.readableBytes) bytes wait, over the \(limits.maxMessageBytes)-byte limit")
                buffer.discardReadBytes()
            }
            while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) { frames.append(frame) }
        } catch let failure as AMIError {
            error = failure.code
        } catch {
            fuzzCheck(false, "the decoder threw something else than an AMIError: \(error)")
        }
    }
}
