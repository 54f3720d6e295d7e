import AMIProtocol
import AMITestSupport
import Foundation
import NIOCore

/// Benchmarks of amibridge's hot paths, run by hand in release mode and reported in the README:
///
///     swift run -c release amibridge-bench decode [megabytes]
///
/// `decode`: the recorded Asterisk 20 event streams, repeated to at least `megabytes` (default
/// 100), cut into 64 KiB reads like a socket delivers them, decoded into messages on one core.
@main
struct Benchmarks {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        switch arguments.first {
        case "decode", nil:
            try decode(megabytes: arguments.dropFirst().first.flatMap(Int.init) ?? 100)
        default:
            FileHandle.standardError.write(Data("usage: amibridge-bench decode [megabytes]\n".utf8))
            exit(2)
        }
    }

    static func decode(megabytes: Int) throws {
        // The bytes after each recording's banner line: only messages, as a long session has.
        var sample: [UInt8] = []
        for name in try AMICapture.names(in: "asterisk-20") {
            let bytes = try AMICapture.load("asterisk-20", name).receivedBytes
            let bannerEnd = (bytes.firstIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
            sample += bytes[bannerEnd...]
        }
        let target = megabytes * 1_000_000
        var stream = ByteBuffer()
        stream.reserveCapacity(target + sample.count)
        while stream.readableBytes < target { stream.writeBytes(sample) }
        let totalBytes = stream.readableBytes

        let readSize = 64 * 1024
        var best = Double.infinity
        var messages = 0
        var fieldsSeen = 0
        for _ in 0..<5 {
            let processor = NIOSingleStepByteToMessageProcessor(AMIFrameDecoder())
            var input = stream
            messages = 0
            fieldsSeen = 0
            let start = ContinuousClock.now
            while let chunk = input.readSlice(length: min(readSize, input.readableBytes)), chunk.readableBytes > 0 {
                try processor.process(buffer: chunk) { frame in
                    if case .message(let message) = frame {
                        messages += 1
                        fieldsSeen &+= message.count
                    }
                }
            }
            let elapsed = ContinuousClock.now - start
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        let megabytesDecoded = Double(totalBytes) / 1_000_000
        print("decode: \(messages) messages (\(fieldsSeen) fields), \(String(format: "%.1f", megabytesDecoded)) MB, best of 5 runs on one core")
        print(String(format: "decode: %.0f events/s, %.0f MB/s, %.1f s", Double(messages) / best, megabytesDecoded / best, best))
    }
}
