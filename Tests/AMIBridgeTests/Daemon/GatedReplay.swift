import AMITestSupport
import Foundation

/// A fake Asterisk that replays a recorded call, but says nothing (not even its banner) until the
/// test opens the gate: the daemon is up, its API answers, and no call has happened yet.
/// The daemon under test gets a long login timeout so it simply waits.
struct GatedReplay {
    let gate = Gate()
    let behavior: FakeAMIServer.Behavior

    /// `capture` in `asterisk-20`; the daemon must log in as `bridge` / `s3cret-AMI` (plain).
    init(_ capture: String = "originate-answered") throws {
        let replay = CaptureReplay(try AMICapture.load("asterisk-20", capture), chunking: .recorded, waitForActions: false).behavior
        let gate = self.gate
        behavior = { session in
            await gate.wait()
            guard !Task.isCancelled else { return }
            try await replay(&session)
        }
    }

    /// What the daemon needs to log in to this server.
    static func amiEnvironment(port: Int) -> [String: String] {
        ["AMI_PORT": String(port), "AMI_USERNAME": "bridge", "AMI_SECRET": "s3cret-AMI", "AMI_AUTH": "plain", "AMI_LOGIN_TIMEOUT_MS": "600000"]
    }
}
