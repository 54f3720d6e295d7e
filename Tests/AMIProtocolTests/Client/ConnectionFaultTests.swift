import AMIProtocol
import AMITestSupport
import NIOCore
import Synchronization
import Testing

/// Faults on loopback: what a real network and a real Asterisk do to a client.
@Suite("AMI client under faults")
struct ConnectionFaultTests {
    static let banner = "Asterisk Call Manager/9.0.0\r\n"

    static func asterisk(after: @escaping @Sendable (inout FakeAMISession) async throws -> Void = { _ in }) -> FakeAMIServer.Behavior {
        FakeAMIServer.asterisk(afterLogin: after)
    }

    static func client(port: Int, events: AMIEventStream, tweak: (inout AMIClient.Configuration) -> Void = { _ in }) -> AMIClient {
        var configuration = AMIClient.Configuration(
            name: "dialer1",
            host: "127.0.0.1",
            port: port,
            // Generous deadlines: the suite shares two cores; tests that are about deadlines set their own.
            session: .init(username: "bridge", secret: "s3cret-AMI", loginTimeout: .seconds(60), keepaliveInterval: .seconds(120), pingTimeout: .seconds(60)),
            reconnect: .init(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(50), loginRejectedDelay: .milliseconds(200))
        )
        tweak(&configuration)
        return AMIClient(configuration: configuration, events: events)
    }

    /// Runs the client until `until` returns true for the stream's history, then stops it.
    static func runClient(
        _ client: AMIClient,
        events: AMIEventStream,
        until done: @escaping @Sendable ([AMIClientEvent]) -> Bool
    ) async throws -> [AMIClientEvent] {
        try await withDeadline(.seconds(60)) {
            try await withThrowingTaskGroup(of: [AMIClientEvent]?.self) { group in
                group.addTask {
                    try await client.run()
                    return nil
                }
                group.addTask {
                    var history: [AMIClientEvent] = []
                    for await element in events {
                        history.append(element)
                        if done(history) { return history }
                    }
                    return history
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let history = result { return history }
                }
                return []
            }
        }
    }

    /// Runs a client against `port` and hands it to `body` once it is logged in.
    static func withLoggedInClient(port: Int, _ body: @escaping @Sendable (AMIClient) async throws -> Void) async throws {
        let events = AMIEventStream()
        let client = Self.client(port: port, events: events)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            for await element in events {
                if case .loggedIn = element { break }
            }
            try await body(client)
            group.cancelAll()
        }
    }

    static func logins(_ history: [AMIClientEvent]) -> Int {
        history.filter { if case .loggedIn = $0 { return true } else { return false } }.count
    }

    static func disconnects(_ history: [AMIClientEvent]) -> [AMIError] {
        history.compactMap { if case .disconnected(_, let reason) = $0 { return reason } else { return nil } }
    }

    static func eventNames(_ history: [AMIClientEvent]) -> [String] {
        history.compactMap { if case .event(let event) = $0 { return event.name } else { return nil } }
    }

    @Test("peer closes mid-message: the half message is dropped, the client reconnects")
    func closeMidMessage() async throws {
        let behavior = Self.asterisk { session in
            if session.index == 0 {
                try await session.write("Event: Hangup\r\nChannel: SIP/1001-0001\r\nCau")
                throw CaptureError("closing mid-message")
            }
            try await session.write("Event: Hangup\r\nChannel: SIP/1001-0002\r\nCause: 16\r\n\r\n")
        }
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            let events = AMIEventStream()
            let history = try await Self.runClient(Self.client(port: server.port, events: events), events: events) {
                Self.eventNames($0).contains("Hangup")
            }
            #expect(Self.logins(history) == 2)
            #expect(Self.disconnects(history).first?.code == .connectionClosed)
            let hangups = history.compactMap { if case .event(let event) = $0, event.name == "Hangup" { return event } else { return nil } }
            #expect(hangups.count == 1)
            #expect(hangups.first?.message["Channel"] == "SIP/1001-0002")
            #expect(hangups.first?.server == "dialer1")
        }
    }

    @Test("no banner: the connection is dropped at the login deadline and retried")
    func noBanner() async throws {
        let behavior: FakeAMIServer.Behavior = { session in
            // Accept and say nothing, until the client gives up.
            while try await session.nextAction() != nil {}
        }
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            let events = AMIEventStream()
            let client = Self.client(port: server.port, events: events) { $0.session.loginTimeout = .milliseconds(200) }
            let history = try await Self.runClient(client, events: events) { Self.disconnects($0).count >= 2 }
            #expect(Self.disconnects(history).allSatisfy { $0.code == .bannerTimeout })
            #expect(server.connectionCount >= 2)
            #expect(Self.logins(history) == 0)
        }
    }

    @Test("a server that stops answering Ping is detected and replaced by a new connection")
    func pingUnanswered() async throws {
        let behavior: FakeAMIServer.Behavior = { session in
            try await session.write(Self.banner)
            while let action = try await session.nextAction() {
                // The first connection goes silent once logged in: it reads but never answers Ping.
                if session.index == 0, action["Action"] == "Ping" { continue }
                guard try await session.answerGenerically(action) else { return }
            }
        }
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            let events = AMIEventStream()
            let client = Self.client(port: server.port, events: events) {
                $0.session.keepaliveInterval = .milliseconds(100)
                $0.session.pingTimeout = .milliseconds(150)
            }
            let history = try await Self.runClient(client, events: events) { Self.logins($0) >= 2 }
            // pingTimeout is only reported for a Ping that was written and went unanswered.
            #expect(Self.disconnects(history).first?.code == .pingTimeout)
            #expect(server.connectionCount >= 2)
        }
    }

    @Test("Shutdown, close, then Asterisk back on the same port: the client logs in again and events flow")
    func asteriskRestart() async throws {
        // One listening port throughout, like a restarted Asterisk: the first session announces
        // Shutdown and closes; the next one is the restarted server.
        let behavior: FakeAMIServer.Behavior = { session in
            if session.index == 0 {
                try await FakeAMIServer.asterisk { session in
                    try await session.write("Event: Shutdown\r\nPrivilege: system,all\r\nShutdown: Cleanly\r\nRestart: True\r\n\r\n")
                    throw CaptureError("Asterisk restarts") // closes the connection
                }(&session)
            } else {
                try await FakeAMIServer.asterisk { session in
                    try await session.write("Event: PeerStatus\r\nPeer: SIP/1001\r\nPeerStatus: Reachable\r\n\r\n")
                }(&session)
            }
        }
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            let events = AMIEventStream()
            let history = try await Self.runClient(Self.client(port: server.port, events: events), events: events) {
                Self.eventNames($0).contains("PeerStatus")
            }
            #expect(Self.eventNames(history).contains("Shutdown"))
            #expect(Self.disconnects(history).first?.code == .serverShutdown)
            #expect(Self.logins(history) == 2)
            #expect(server.connectionCount == 2)
        }
    }

    @Test("a wrong secret is a distinct error, retried at the slow cadence")
    func wrongSecret() async throws {
        let behavior: FakeAMIServer.Behavior = { session in
            try await session.write(Self.banner)
            guard let login = try await session.nextAction() else { return }
            let id = login.actionID ?? ""
            try await session.write("Response: Error\r\nActionID: \(id)\r\nMessage: Authentication failed\r\n\r\n")
        }
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            let events = AMIEventStream()
            let client = Self.client(port: server.port, events: events)
            let clock = ContinuousClock()
            let start = clock.now
            let history = try await Self.runClient(client, events: events) { Self.disconnects($0).count >= 2 }
            let elapsed = clock.now - start
            #expect(Self.disconnects(history).allSatisfy { $0.code == .loginRejected })
            #expect(client.loginFailureCount >= 2)
            // Two attempts are separated by the 200 ms login-rejected delay, not the 10 ms backoff.
            #expect(elapsed >= .milliseconds(200))
        }
    }

    @Test("a 10 MB line drops the connection without buffering it; the client reconnects", .timeLimit(.minutes(1)))
    func hugeLine() async throws {
        try await Self.garbageAfterLogin(bytes: [UInt8](repeating: UInt8(ascii: "x"), count: 10 * 1024 * 1024), prefix: "Event: Flood\r\nValue: ")
    }

    @Test("random bytes drop the connection; the client reconnects", .timeLimit(.minutes(1)))
    func randomBytes() async throws {
        var generator = SplitMix64(seed: 42)
        let bytes = (0..<(1024 * 1024)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        try await Self.garbageAfterLogin(bytes: bytes, prefix: "")
    }

    static func garbageAfterLogin(bytes: [UInt8], prefix: String) async throws {
        let behavior = Self.asterisk { session in
            guard session.index == 0 else {
                try await session.write("Event: PeerStatus\r\nPeer: SIP/1001\r\nPeerStatus: Reachable\r\n\r\n")
                return
            }
            try await session.write(prefix)
            // 64 KiB writes; the client closes long before the end, which ends this write loop.
            var offset = 0
            while offset < bytes.count {
                try await session.write(Array(bytes[offset..<min(offset + 65536, bytes.count)]))
                offset += 65536
            }
        }
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            let events = AMIEventStream()
            let rssBefore = residentMemoryBytes()
            let history = try await Self.runClient(Self.client(port: server.port, events: events), events: events) {
                Self.eventNames($0).contains("PeerStatus")
            }
            let reasons = Self.disconnects(history)
            #expect(reasons.count == 1)
            #expect([AMIError.Code.lineTooLong, .messageTooLarge, .malformedFrame].contains(reasons.first?.code))
            #expect(Self.logins(history) == 2)
            // Nothing of the garbage reached the consumer.
            #expect(Self.eventNames(history) == ["PeerStatus"])
            // The decoder gave up at its 64 KiB line / 1 MiB message caps instead of buffering.
            let growth = residentMemoryBytes() - rssBefore
            #expect(growth < 64 * 1024 * 1024, "resident memory grew by \(growth) bytes")
        }
    }

    @Test("an action value carrying CR/LF is rejected and nothing of it reaches the socket")
    func injectionRejected() async throws {
        try await FakeAMIServer.withServer(behavior: Self.asterisk()) { server in
            try await Self.withLoggedInClient(port: server.port) { client in
                let attempts: [AMIAction] = [
                    AMIAction("Originate", [("Channel", "SIP/1001\r\nAction: Hangup\r\nChannel: SIP/1002")]),
                    AMIAction("Originate", [("Channel", "SIP/1001"), ("CallerID", "x\nAction: Command")]),
                    AMIAction("Originate", [("Exten\r\nAction: Hangup", "1")]),
                    AMIAction("Command\r\n", [("Command", "core stop now")]),
                    AMIAction("Originate", [("Channel", "SIP/1001\u{0}")]),
                ]
                for action in attempts {
                    await #expect { try await client.send(action) } throws: { ($0 as? AMIError)?.code == .forbiddenCharacter }
                }
                await #expect { try await client.send(.ping, actionID: "id\r\nAction: Hangup") } throws: { ($0 as? AMIError)?.code == .forbiddenCharacter }
                // A Ping after the attempts: whatever was written before it has arrived when it is answered.
                let pong = try await client.send(.ping)
                #expect(pong.message["Ping"] == "Pong")
            }
            let received = server.receivedActions[0].compactMap { $0["Action"] }
            #expect(received == ["Login", "Events", "Ping"])
            #expect(!server.receivedActions[0].contains { $0.wireText.contains("Hangup") || $0.wireText.contains("core stop") })
        }
    }

    @Test("an action Asterisk never answers times out; a late answer is not mistaken for an event")
    func actionTimeout() async throws {
        let behavior: FakeAMIServer.Behavior = { session in
            try await session.write(Self.banner)
            while let action = try await session.nextAction() {
                if action["Action"] == "Command" { continue } // never answered
                guard try await session.answerGenerically(action) else { return }
            }
        }
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            try await Self.withLoggedInClient(port: server.port) { client in
                await #expect { try await client.send(.command("core show uptime"), timeout: .milliseconds(100)) } throws: {
                    ($0 as? AMIError)?.code == .actionTimeout
                }
                // The connection is still fine.
                let pong = try await client.send(.ping)
                #expect(pong.isSuccess)
            }
        }
    }
}

/// Deterministic random bytes for the garbage test.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
