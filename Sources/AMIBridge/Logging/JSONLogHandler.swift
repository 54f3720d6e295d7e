import CRMSink
import Foundation
import Logging

/// One JSON object per line on stdout, for journald and log shippers:
/// `{"time":"…","level":"info","message":"…","logger":"amibridge.ami","server":"dialer1",…}`.
///
/// Metadata keys become top-level fields. Secrets never reach a logger in the first place (they
/// are read with `isSecret` and redacted in descriptions); this handler only encodes.
///
/// The bridge logs two or three lines per call, so a storm is tens of thousands of lines a
/// second: lines are written as bytes (no Foundation formatter, no intermediate strings), and
/// stdout gets them through ``LogLineWriter``, which joins the lines of a burst into few writes.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let label: String
    private let output: Output

    private enum Output {
        case standardOutput
        case lines(@Sendable (String) -> Void)
    }

    /// Lines go to stdout (through ``LogLineWriter/standardOutput``), or to `output` when given.
    init(label: String, level: Logger.Level, output: (@Sendable (String) -> Void)? = nil) {
        self.label = label
        self.logLevel = level
        self.output = output.map { .lines($0) } ?? .standardOutput
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line: [UInt8] = []
        line.reserveCapacity(320)
        self.encode(event, into: &line)
        switch self.output {
        case .standardOutput:
            // Warnings and worse reach stdout before `log` returns (a crash may follow them).
            LogLineWriter.standardOutput.write(line, flushNow: event.level >= .warning)
        case .lines(let output):
            output(String(decoding: line, as: UTF8.self))
        }
    }

    /// The line, newline included.
    func encode(_ event: LogEvent, into line: inout [UInt8]) {
        line += #"{"time":""#.utf8
        Self.appendTimestamp(to: &line)
        line += #"","level":""#.utf8
        line += event.level.rawValue.utf8
        line += #"","message":"#.utf8
        Self.appendJSONString(event.message.description, to: &line)
        line += #","logger":"#.utf8
        Self.appendJSONString(label, to: &line)
        let merged: Logger.Metadata
        if self.metadata.isEmpty {
            merged = event.metadata ?? [:]
        } else if let extra = event.metadata, !extra.isEmpty {
            merged = self.metadata.merging(extra) { _, new in new }
        } else {
            merged = self.metadata
        }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !Self.reservedKeys.contains(key) {
            line.append(UInt8(ascii: ","))
            Self.appendJSONString(key, to: &line)
            line.append(UInt8(ascii: ":"))
            if case .string(let string) = value {
                Self.appendJSONString(string, to: &line)
            } else {
                Self.appendJSONString(value.description, to: &line)
            }
        }
        line += "}\n".utf8
    }

    private static let reservedKeys: Set<String> = ["time", "level", "message", "logger"]

    /// `2026-01-15T14:32:00.123Z`: UTC, milliseconds.
    static func timestamp() -> String {
        var bytes: [UInt8] = []
        appendTimestamp(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The current time as ``timestamp()`` writes it, digit by digit (a Foundation format style
    /// per line was most of this handler's cost).
    static func appendTimestamp(to bytes: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        appendDigits(Int(parts.tm_year) + 1900, count: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mon) + 1, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mday), count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(Int(parts.tm_hour), count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_min), count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_sec), count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDigits(Int(now.tv_nsec) / 1_000_000, count: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    private static func appendDigits(_ value: Int, count: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = max(0, value)
        if rest >= divisor * 10 {
            bytes += String(rest).utf8
            return
        }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// A JSON string (RFC 8259), escaped as webhook bodies are (one rule: ``JSONText``).
    static func appendJSONString(_ value: String, to line: inout [UInt8]) {
        JSONText.appendString(value, to: &line)
    }
}
