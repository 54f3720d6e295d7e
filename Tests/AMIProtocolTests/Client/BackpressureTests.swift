import AMIProtocol
import AMITestSupport
import Synchronization
import Testing

/// A consumer slower than Asterisk, over real TCP: the client stops reading instead of dropping,
/// so every event arrives in order on the one connection, and a paused read is not taken for a
/// dead peer.
@Suite("AMI client backpressure")
struct BackpressureTests {
    /// An event numbered `sequence`, about 60 bytes: many fit in one socket read.
    static func numberedEvent(_ sequence: Int) -> String {
        "Event: Newexten\r\nChannel: SIP/1001-0001\r\nSequence: \(sequence)\r\n\r\n"
    }

    /// Writes `count` numbered events after login, `perWrite` per write; a write waits while the
    /// client does not read (TCP flow control). One write of everything hands it all to the
    /// server's channel at once, so the fake goes straight back to answering actions (`Ping`).
    static func flood(_ count: Int, perWrite: Int = 500) -> FakeAMIServer.Behavior {
        FakeAMIServer.asterisk { session in
            var sequence = 1
            while sequence <= count {
                let last = min(sequence + perWrite - 1, count)
                try await session.write((sequence...last).map(numberedEvent).joined())
                sequence = last + 1
            }
        }
    }

    /// Whether `sequences` is exactly 1...total; says where it first goes wrong (the arrays are
    /// too long to print).
    static func inOrder(_ sequences: [Int], total: Int) -> (Bool, Comment) {
        if let wrong = sequences.indices.first(where: { sequences[$0] != $0 + 1 }) {
            return (false, "event \(wrong + 1) of \(sequences.count) was number \(sequences[wrong])")
        }
        return (sequences.count == total, "\(sequences.count) of \(total) events")
    }

    struct Outcome: Sendable {
        var sequences: [Int] = []
        /// Each event as AMI text (split-read tests compare it with what was written).
        var texts: [String] = []
        var disconnects: [AMIError] = []
        var logins = 0
        var mostQueued = 0
    }

    /// Reads `total` events through `nextBatch`, calling `slowDown` after each batch.
    static func consume(
        _ events: AMIEventStream,
        total: Int,
        batchLimit: Int,
        recordTexts: Bool = false,
        slowDown: @escaping @Sendable (_ batchNumber: Int) async throws -> Void
    ) async throws -> Outcome {
        var outcome = Outcome()
        var batchNumber = 0
        while outcome.sequences.count < total, let batch = await events.nextBatch(limit: batchLimit) {
            for element in batch {
                switch element {
                case .event(let event):
                    outcome.sequences.append(event.message["Sequence"].flatMap { Int($0) } ?? -1)
                    if recordTexts { outcome.texts.append(event.message.wireText) }
                case .loggedIn:
                    outcome.logins += 1
                case .disconnected(_, let reason):
                    outcome.disconnects.append(reason)
                }
            }
            outcome.mostQueued = max(outcome.mostQueued, events.queuedEvents)
            batchNumber += 1
            try await slowDown(batchNumber)
        }
        return outcome
    }

    static func run(
        server: FakeAMIServer,
        events: AMIEventStream,
        session: AMIConnectionStateMachine.Configuration,
        total: Int,
        batchLimit: Int,
        recordTexts: Bool = false,
        slowDown: @escaping @Sendable (_ batchNumber: Int) async throws -> Void
    ) async throws -> (Outcome, AMIClient) {
        let client = AMIClient(
            configuration: .init(
                name: "dialer1", host: "127.0.0.1", port: server.port, session: session,
                reconnect: .init(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(50))
            ),
            events: events
        )
        let outcome = try await withDeadline(.seconds(120)) {
            try await withThrowingTaskGroup(of: Outcome?.self) { group in
                group.addTask { try await client.run(); return nil }
                group.addTask { try await consume(events, total: total, batchLimit: batchLimit, recordTexts: recordTexts, slowDown: slowDown) }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let outcome = result { return outcome }
                }
                return Outcome()
            }
        }
        return (outcome, client)
    }

    @Test("30,000 events into a 1,000-event stream read by a slow consumer: all arrive, in order, none dropped, no reconnect")
    func slowConsumerLosesNothing() async throws {
        let total = 30_000
        let capacity = 1_000
        try await FakeAMIServer.withServer(behavior: Self.flood(total)) { server in
            let events = AMIEventStream(capacity: capacity)
            let (outcome, client) = try await Self.run(
                server: server, events: events,
                session: .init(username: "bridge", secret: "s3cret-AMI", loginTimeout: .seconds(60)),
                total: total, batchLimit: 100
            ) { batchNumber in
                // Deliberately slow: nothing more until the stream has filled once, then at most
                // 100 events per millisecond, far below what loopback delivers.
                if batchNumber == 1 {
                    while events.pauseCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            let (ordered, detail) = Self.inOrder(outcome.sequences, total: total)
            #expect(ordered, detail)
            #expect(events.droppedEvents == 0)
            #expect(events.pauseCount > 0, "the stream filled up, so the client must have paused")
            #expect(outcome.logins == 1)
            #expect(outcome.disconnects.isEmpty)
            #expect(client.reconnectCount == 0)
            #expect(server.connectionCount == 1)
            // Beyond the capacity only what one readable event delivers: NIO's 4 reads of 64 KiB.
            let oneRead = 4 * 65_536 / Self.numberedEvent(total).utf8.count
            #expect(outcome.mostQueued <= capacity + oneRead)
        }
    }

    @Test("a consumer that stalls for many ping timeouts: the paused connection is not taken for dead")
    func pausedReadIsNotADeadPeer() async throws {
        let total = 20_000
        try await FakeAMIServer.withServer(behavior: Self.flood(total, perWrite: total)) { server in
            let events = AMIEventStream(capacity: 500)
            let (outcome, client) = try await Self.run(
                server: server, events: events,
                // A Ping after 500 ms of silence, and 4 s for its answer (the fake answers from the
                // shared task pool, which a loaded machine can hold up for seconds): the stall is
                // longer than both together, so a Ping sent during it would time out within it.
                session: .init(
                    username: "bridge", secret: "s3cret-AMI", loginTimeout: .seconds(60),
                    keepaliveInterval: .milliseconds(500), pingTimeout: .seconds(4)
                ),
                total: total, batchLimit: 1_000
            ) { batchNumber in
                if batchNumber == 1 {
                    // Stall once the stream is full, so the client has stopped reading.
                    while events.pauseCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
                    try await Task.sleep(for: .seconds(6))
                }
            }
            let (ordered, detail) = Self.inOrder(outcome.sequences, total: total)
            #expect(ordered, detail)
            #expect(outcome.disconnects.isEmpty)
            #expect(client.reconnectCount == 0)
            #expect(server.connectionCount == 1)
            #expect(events.droppedEvents == 0)
        }
    }
}
