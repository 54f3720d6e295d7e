import Foundation

/// A recorded AMI session from `shared/ami-captures` (JSON Lines: a header, then one line per
/// `recv` chunk, client `send` or server `close`).
public struct AMICapture: Sendable {
    public enum Direction: String, Sendable, Decodable {
        case recv, send, close
    }

    public struct Entry: Sendable, Decodable {
        public var t: Double
        public var dir: Direction
        public var data: String
    }

    struct Header: Decodable {
        var capture: String
        var asterisk: String
        var note: String
    }

    public var name: String
    public var asterisk: String
    public var note: String
    public var entries: [Entry]

    public init(contentsOf url: URL) throws {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.first else { throw CaptureError("empty capture file \(url.path)") }
        let decoder = JSONDecoder()
        let header = try decoder.decode(Header.self, from: Data(first.utf8))
        name = header.capture
        asterisk = header.asterisk
        note = header.note
        entries = try lines.dropFirst().map { try decoder.decode(Entry.self, from: Data($0.utf8)) }
    }

    /// Every byte Asterisk sent, in order.
    public var receivedBytes: [UInt8] {
        entries.filter { $0.dir == .recv }.flatMap { Array($0.data.utf8) }
    }

    public var endsWithClose: Bool { entries.last?.dir == .close }

    /// The folder of the shared captures: `AMIBRIDGE_CAPTURES`, else `../shared/ami-captures`
    /// beside the package root (where CI and developers have it).
    public static var directory: URL {
        if let path = ProcessInfo.processInfo.environment["AMIBRIDGE_CAPTURES"] {
            return URL(fileURLWithPath: path)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/ami-captures")
    }

    /// The project's own captures (`Tests/Fixtures/ami-captures`: call shapes recorded from the
    /// Asterisk lab for this project), read before the shared ones.
    public static var projectDirectory: URL {
        packageRoot.appendingPathComponent("Tests/Fixtures/ami-captures")
    }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Loads `folder/name.jsonl`, e.g. `load("asterisk-20", "originate-answered")`, from the
    /// project's captures, else the shared ones.
    public static func load(_ folder: String, _ name: String) throws -> AMICapture {
        let own = projectDirectory.appendingPathComponent(folder).appendingPathComponent("\(name).jsonl")
        if FileManager.default.fileExists(atPath: own.path) { return try AMICapture(contentsOf: own) }
        return try AMICapture(contentsOf: directory.appendingPathComponent(folder).appendingPathComponent("\(name).jsonl"))
    }

    /// The names of every capture in a folder, the project's and the shared ones, sorted.
    public static func names(in folder: String) throws -> [String] {
        let own = (try? FileManager.default.contentsOfDirectory(atPath: projectDirectory.appendingPathComponent(folder).path)) ?? []
        let shared = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(folder).path)
        return Set((own + shared).filter { $0.hasSuffix(".jsonl") }.map { String($0.dropLast(".jsonl".count)) }).sorted()
    }
}

public struct CaptureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
