import AMIProtocol
import AMITestSupport
import ArgumentParser
import Foundation

/// A stand-in Asterisk for demos and local runs: replays a recorded Asterisk 20 session to every
/// client that logs in as the recording did (user `bridge`, secret `s3cret-AMI`), then keeps
/// answering like Asterisk. (To be replaced by the full simulator with configurable traffic.)
///
/// `--capture none` sends no traffic and queues every Originate with a successful
/// OriginateResponse (any login accepted): a dialer for click-to-call runs such as
/// scripts/fuzz-api.sh. `--action-log` lets such a run prove which actions reached "Asterisk".
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Listen like Asterisk's AMI on 127.0.0.1 and replay recorded call traffic."
    )

    @Option(help: "TCP port to listen on (0 picks a free one).")
    var port: Int = 5038

    @Option(help: "Recorded session to replay, from ../shared/ami-captures/asterisk-20; none: no traffic, every Originate succeeds.")
    var capture: String = "burst-20-calls"

    @Option(help: "Append every action received to this file, one JSON object per line: {\"connection\": N, \"fields\": [[name, value], ...]} (Secret and Key redacted).")
    var actionLog: String?

    func run() async throws {
        let behavior: FakeAMIServer.Behavior
        let description: String
        if capture == "none" {
            behavior = FakeAMIServer.queuingOriginates(reportingSuccess: true)
            description = "no traffic, every Originate queued and successful"
        } else {
            let recording = try AMICapture.load("asterisk-20", capture)
            var replay = CaptureReplay(recording, chunking: .recorded, waitForActions: false)
            replay.paced = true
            behavior = replay.behavior
            description = "replaying \(recording.name) (\(recording.note))"
        }
        let log = try actionLog.map(ActionLog.init(path:))
        try await FakeAMIServer.withServer(port: port, behavior: behavior) { server in
            FileHandle.standardOutput.write(Data("amibridge simulate: AMI on 127.0.0.1:\(server.port), \(description)\n".utf8))
            // Serve until interrupted; the action log catches up every 50 ms.
            defer { log?.append(server.receivedActions) }
            while !Task.isCancelled {
                guard let log else {
                    try await Task.sleep(for: .seconds(3600))
                    continue
                }
                log.append(server.receivedActions)
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}

/// The actions a simulated Asterisk received, appended to a file as JSON lines as they arrive.
private final class ActionLog: @unchecked Sendable {
    private let file: FileHandle
    /// Actions already written, per connection (only `run`'s task calls `append`).
    private var written: [Int] = []

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ValidationError("--action-log: cannot create \(path)")
            }
        }
        guard let file = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("--action-log: cannot open \(path) for writing")
        }
        file.seekToEndOfFile()
        self.file = file
    }

    /// Writes the actions of `received` (every connection's, in order) not written yet.
    func append(_ received: [[AMIMessage]]) {
        var text = ""
        for (connection, actions) in received.enumerated() {
            if connection == written.count { written.append(0) }
            for action in actions.dropFirst(written[connection]) {
                text += Self.line(action, connection: connection)
            }
            written[connection] = actions.count
        }
        if !text.isEmpty { file.write(Data(text.utf8)) }
    }

    static func line(_ action: AMIMessage, connection: Int) -> String {
        let fields = action.fields.map { field in
            [field.name, ["secret", "key"].contains(field.name.lowercased()) ? "<redacted>" : field.value]
        }
        let object: [String: Any] = ["connection": connection, "fields": fields]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
