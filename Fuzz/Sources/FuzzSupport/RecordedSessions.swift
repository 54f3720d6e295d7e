import AMIProtocol
import Foundation
import NIOCore

/// Every recorded AMI session under `shared/ami-captures`, as fuzzing material: the bytes Asterisk
/// sent, and what a client made of them (messages with their recorded times, the Originates the
/// recording client sent).
public struct RecordedSessions: Sendable {
    public struct Session: Sendable {
        /// `asterisk-20/originate-answered`.
        public var name: String
        /// Every byte Asterisk sent, in order.
        public var received: [UInt8]
        public var items: [Item]
    }

    public enum Item: Sendable {
        case message(AMIMessage, at: Double)
        /// An Originate the recording client sent: what the daemon registers with the tracker.
        case originate(actionID: String, callID: String, channel: String, at: Double)
    }

    public var sessions: [Session]
    /// Every session's items, one after another: what a fuzz input picks from by index.
    public var items: [Item]
    /// Every distinct value of each header name (lowercased) in the items, for mutations that
    /// swap one real id, state or name for another.
    public var valuesByName: [String: [String]]
    public var banners: [String]

    /// Loads every capture folder: `AMIBRIDGE_CAPTURES`, else `shared/ami-captures` beside the
    /// repository (as for the tests), and the project's own (`Tests/Fixtures/ami-captures`).
    public static func load() -> RecordedSessions {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let directory = ProcessInfo.processInfo.environment["AMIBRIDGE_CAPTURES"].map(URL.init(fileURLWithPath:))
            ?? repository.deletingLastPathComponent().appendingPathComponent("shared/ami-captures")
        var sessions: [Session] = []
        let files = [directory, repository.appendingPathComponent("Tests/Fixtures/ami-captures")].flatMap { folder in
            FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?
                .compactMap { $0 as? URL }.filter { $0.pathExtension == "jsonl" } ?? []
        }.sorted { $0.path < $1.path }
        for file in files {
            let name = file.deletingPathExtension().pathComponents.suffix(2).joined(separator: "/")
            if let session = try? Session(name: name, contentsOf: file) { sessions.append(session) }
        }
        guard !sessions.isEmpty else { fatalError("no capture under \(directory.path): set AMIBRIDGE_CAPTURES") }
        return RecordedSessions(sessions: sessions)
    }

    /// The messages among `items`, in order.
    public var messages: [AMIMessage] {
        items.compactMap { item in
            if case .message(let message, _) = item { return message }
            return nil
        }
    }

    /// Which session an index into ``items`` is from, and where in it: to turn a finding into a
    /// regression test that replays the same recorded items.
    public func place(of index: Int) -> (session: String, offset: Int) {
        var offset = index
        for session in sessions {
            if offset < session.items.count { return (session.name, offset) }
            offset -= session.items.count
        }
        return ("none", offset)
    }

    init(sessions: [Session]) {
        self.sessions = sessions
        items = sessions.flatMap(\.items)
        var values: [String: Set<String>] = [:]
        var banners: Set<String> = []
        for case .message(let message, _) in items {
            for field in message.fields { values[field.name.lowercased(), default: []].insert(field.value) }
        }
        for session in sessions {
            var buffer = ByteBuffer(bytes: session.received)
            var decoder = AMIFrameDecoder()
            if case .banner(let banner)? = try? decoder.decode(buffer: &buffer) { banners.insert(banner) }
        }
        valuesByName = values.mapValues { $0.sorted() }
        self.banners = banners.sorted()
    }
}

extension RecordedSessions.Session {
    init(name: String, contentsOf file: URL) throws {
        self.name = name
        received = []
        items = []
        var decoder = AMIFrameDecoder()
        var buffer = ByteBuffer()
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").dropFirst()
        for line in lines {
            guard let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let direction = entry["dir"] as? String, let time = entry["t"] as? Double else { continue }
            let data = entry["data"] as? String ?? ""
            switch direction {
            case "recv":
                received += data.utf8
                buffer.writeString(data)
                while let frame = try decoder.decode(buffer: &buffer) {
                    if case .message(let message) = frame { items.append(.message(message, at: time)) }
                }
            case "send":
                var sent = ByteBuffer(string: data)
                var sendDecoder = AMIFrameDecoder()
                guard case .message(let action)? = try? sendDecoder.decode(buffer: &sent), action["Action"] == "Originate" else { continue }
                let actionID = action.actionID ?? ""
                let variable = action.values(for: "Variable").first { $0.hasPrefix("CRM_CALL_ID=") }
                let callID = variable.map { String($0.dropFirst("CRM_CALL_ID=".count)) } ?? actionID
                items.append(.originate(actionID: actionID, callID: callID, channel: action["Channel"] ?? "", at: time))
            default:
                break
            }
        }
    }
}
