@testable import AMIBridge
import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

/// The JSON log line, byte for byte, and the batched writer behind stdout.
@Suite("JSON log lines")
struct JSONLogHandlerTests {
    @Test("a line: time in UTC with milliseconds, level, escaped message, logger, metadata sorted by key")
    func line() throws {
        let output = NIOLockedValueBox<[String]>([])
        var logger = Logger(label: "amibridge.calls") { label in
            JSONLogHandler(label: label, level: .info) { line in output.withLockedValue { $0.append(line) } }
        }
        logger[metadataKey: "server"] = "dialer1"
        let before = Date()
        logger.info("call \"complete\"\n\u{1}é", metadata: ["linkedid": "1795615870.0", "talk_seconds": .stringConvertible(42), "level": "ignored"])
        let after = Date()
        let line = try #require(output.withLockedValue { $0.first })
        let time = try #require(line.wholeMatch(of: /\{"time":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)",.*\n/)?.1)
        #expect(line.dropFirst(#"{"time":"2026-01-15T14:32:00.123Z""#.count) == #","level":"info","message":"call \"complete\"\n\u0001é","logger":"amibridge.calls","linkedid":"1795615870.0","server":"dialer1","talk_seconds":"42"}"# + "\n")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let logged = try #require(formatter.date(from: String(time)))
        #expect(logged >= before.addingTimeInterval(-0.001) && logged <= after)
    }

    @Test("the writer keeps lines whole and in order, and a flush writes everything before it")
    func writer() throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        defer { close(descriptors[0]) }
        let writer = LogLineWriter(fileDescriptor: descriptors[1])
        // Four threads at once: each one's lines whole and in its order.
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for index in 0..<300 { writer.write(Array("thread \(thread) line \(index)\n".utf8)) }
        }
        writer.write(Array("last\n".utf8), flushNow: true)
        close(descriptors[1])
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while case let count = read(descriptors[0], &buffer, buffer.count), count > 0 {
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        #expect(text.hasSuffix("last\n"))
        let lines = text.split(separator: "\n").dropLast()
        #expect(lines.count == 1200)
        for thread in 0..<4 {
            let own = lines.filter { $0.hasPrefix("thread \(thread) ") }
            #expect(own == (0..<300).map { "thread \(thread) line \($0)"[...] })
        }
    }
}
