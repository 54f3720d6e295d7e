import Foundation
import Logging

/// One JSON object per line on stdout, for journald and log shippers:
/// `{"time":"…","level":"info","message":"…","logger":"amibridge.ami","server":"dialer1",…}`.
///
/// Metadata keys become top-level fields. Secrets never reach a logger in the first place (they
/// are read with `isSecret` and redacted in descriptions); this handler only encodes.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let label: String
    private let output: @Sendable (String) -> Void

    init(label: String, level: Logger.Level, output: @escaping @Sendable (String) -> Void = JSONLogHandler.standardOutput) {
        self.label = label
        self.logLevel = level
        self.output = output
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = "{\"time\":\"\(Self.timestamp())\",\"level\":\"\(event.level.rawValue)\",\"message\":"
        Self.appendJSONString(event.message.description, to: &line)
        line += ",\"logger\":"
        Self.appendJSONString(label, to: &line)
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() where !["time", "level", "message", "logger"].contains(key) {
            line += ","
            Self.appendJSONString(key, to: &line)
            line += ":"
            Self.appendJSONString(merged[key]!.description, to: &line)
        }
        line += "}\n"
        output(line)
    }

    /// One unbuffered write per line: lines from several threads never interleave.
    static let standardOutput: @Sendable (String) -> Void = { line in
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    static func timestamp() -> String {
        let now = Date()
        return now.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    static func appendJSONString(_ value: String, to line: inout String) {
        line += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case _ where scalar.value < 0x20:
                line += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: line.unicodeScalars.append(scalar)
            }
        }
        line += "\""
    }
}
