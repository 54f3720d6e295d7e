import AMITestSupport
import ArgumentParser
import Foundation

/// A stand-in Asterisk for demos and local runs: replays a recorded Asterisk 20 session to every
/// client that logs in as the recording did (user `bridge`, secret `s3cret-AMI`), then keeps
/// answering like Asterisk. (To be replaced by the full simulator with configurable traffic.)
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Listen like Asterisk's AMI on 127.0.0.1 and replay recorded call traffic."
    )

    @Option(help: "TCP port to listen on (0 picks a free one).")
    var port: Int = 5038

    @Option(help: "Recorded session to replay, from ../shared/ami-captures/asterisk-20.")
    var capture: String = "burst-20-calls"

    func run() async throws {
        let recording = try AMICapture.load("asterisk-20", capture)
        var replay = CaptureReplay(recording, chunking: .recorded, waitForActions: false)
        replay.paced = true
        try await FakeAMIServer.withServer(port: port, behavior: replay.behavior) { server in
            FileHandle.standardOutput.write(Data("amibridge simulate: AMI on 127.0.0.1:\(server.port), replaying \(recording.name) (\(recording.note))\n".utf8))
            // Serve until interrupted.
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(3600))
            }
        }
    }
}
