import AMIProtocol
import NIOCore

/// Replays a recorded session as a fake Asterisk: the recorded `recv` chunks are written as they
/// were chunked (or one byte per write), each batch only once the client has sent the action that
/// preceded it in the recording.
///
/// The client picks its own ActionIDs, so the recorded ones are rewritten to the client's in the
/// replayed bytes (chunk boundaries stay where they were). Actions the recording lacks — the
/// client's `Events`/`Filter` setup, keepalive `Ping`s — are answered as Asterisk 20 would.
/// A `Login` whose credentials differ from the recording's is refused, as Asterisk would.
public struct CaptureReplay: Sendable {
    public enum Chunking: Sendable {
        case recorded
        case bytePerWrite
    }

    enum Step: Sendable {
        case chunks([(t: Double, data: String)])
        case expect(AMIMessage)
        case close
    }

    let steps: [Step]
    let chunking: Chunking
    /// Keep the recorded pacing (a chunk is written at its recorded time since the connection
    /// started) instead of writing as fast as the client reads.
    public var paced = false

    /// `waitForActions: false` replays everything after the login without waiting for the
    /// recording client's other actions (a demo feed of recorded call traffic).
    public init(_ capture: AMICapture, chunking: Chunking, waitForActions: Bool = true) {
        var steps: [Step] = []
        var pending: [(t: Double, data: String)] = []
        for entry in capture.entries {
            switch entry.dir {
            case .recv:
                pending.append((entry.t, entry.data))
            case .send, .close:
                if !pending.isEmpty { steps.append(.chunks(pending)) }
                pending = []
                if entry.dir == .close {
                    steps.append(.close)
                } else if let action = Self.parseAction(entry.data),
                          waitForActions || ["login", "challenge"].contains(action["Action"]?.lowercased() ?? "") {
                    steps.append(.expect(action))
                }
            }
        }
        if !pending.isEmpty { steps.append(.chunks(pending)) }
        self.steps = steps
        self.chunking = chunking
    }

    /// The server behaviour: use as `FakeAMIServer.withServer(behavior: replay.behavior)`.
    public var behavior: FakeAMIServer.Behavior {
        let steps = steps
        let chunking = chunking
        let paced = paced
        return { session in
            let start = ContinuousClock.now
            var actionIDs: [String: String] = [:]
            var index = 0
            while index < steps.count {
                switch steps[index] {
                case .chunks(let chunks):
                    let times = chunks.map(\.t)
                    for (offset, chunk) in Self.rewrite(chunks.map(\.data), actionIDs: actionIDs).enumerated() {
                        if paced, offset < times.count {
                            try await Task.sleep(until: start + .milliseconds(Int64(times[offset] * 1000)), clock: .continuous)
                        }
                        try await session.write(chunk, bytePerWrite: chunking == .bytePerWrite)
                    }
                case .close:
                    try await session.closeAfterClientHasRead()
                    return
                case .expect(let expected):
                    // Answer whatever the client sends first until it sends the recorded action.
                    while true {
                        guard let action = try await session.nextAction() else { return }
                        if action["Action"]?.caseInsensitiveEquals(expected["Action"] ?? "") == true,
                           Self.isRecordedLogin(expected) == false || Self.credentialsMatch(action, expected) {
                            if let recorded = expected.actionID, let actual = action.actionID {
                                actionIDs[recorded] = actual
                            }
                            break
                        }
                        if Self.isRecordedLogin(expected), action["Action"]?.caseInsensitiveEquals("Login") == true {
                            let id = action.actionID.map { "ActionID: \($0)\r\n" } ?? ""
                            try await session.write("Response: Error\r\n\(id)Message: Authentication failed\r\n\r\n")
                            return
                        }
                        guard try await session.answerGenerically(action) else { return }
                    }
                }
                index += 1
            }
            // The recording is over but the connection stays up: keep answering like Asterisk.
            while let action = try await session.nextAction() {
                guard try await session.answerGenerically(action) else { return }
            }
        }
    }

    static func isRecordedLogin(_ action: AMIMessage) -> Bool {
        action["Action"]?.caseInsensitiveEquals("Login") == true
    }

    /// The recorded login's credentials (`Username` and `Secret`, or the MD5 `Key`) must match.
    static func credentialsMatch(_ action: AMIMessage, _ recorded: AMIMessage) -> Bool {
        ["Username", "Secret", "Key", "AuthType"].allSatisfy { action[$0] == recorded[$0] }
    }

    /// A recorded action's text as a message (for tests that read what the recording client sent).
    public static func parseAction(_ text: String) -> AMIMessage? {
        var decoder = AMIFrameDecoder()
        var buffer = ByteBuffer(string: text)
        guard case .message(let message)? = try? decoder.decode(buffer: &buffer) else { return nil }
        return message
    }

    /// Replaces `ActionID: <recorded>` with the client's id across the batch, keeping chunk
    /// boundaries at the same places relative to the text around them.
    static func rewrite(_ chunks: [String], actionIDs: [String: String]) -> [[UInt8]] {
        let original = chunks.flatMap { Array($0.utf8) }
        var boundaries = Set<Int>()
        var offset = 0
        for chunk in chunks.dropLast() {
            offset += chunk.utf8.count
            boundaries.insert(offset)
        }
        let replacements = actionIDs.map { (Array("ActionID: \($0.key)\r\n".utf8), Array("ActionID: \($0.value)\r\n".utf8)) }

        var output: [[UInt8]] = [[]]
        var position = 0
        while position < original.count {
            if boundaries.contains(position) { output.append([]) }
            if let (from, to) = replacements.first(where: { original[position...].starts(with: $0.0) }) {
                // A boundary inside the replaced text keeps its distance from the start.
                var written = 0
                for inner in 1..<from.count where boundaries.contains(position + inner) {
                    let cut = min(inner, to.count)
                    output[output.count - 1].append(contentsOf: to[written..<cut])
                    output.append([])
                    written = cut
                }
                output[output.count - 1].append(contentsOf: to[written...])
                position += from.count
            } else {
                output[output.count - 1].append(original[position])
                position += 1
            }
        }
        return output.filter { !$0.isEmpty }
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        lowercased() == other.lowercased()
    }
}
