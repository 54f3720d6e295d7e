import AMIProtocol
import AMITestSupport
import Testing

/// The client decodes in place and copies only the message a read cut off, a chunk at a time
/// (`AMIConnectionHandler.completeUnreadMessage`). Messages split anywhere, some longer than
/// several such chunks, must come out whole and in order.
@Suite("AMI client: messages split across reads")
struct SplitReadTests {
    /// Event `sequence`; every seventh carries a long value (up to 9,000 bytes, more than four
    /// 2 KiB completion chunks) so a message spans many reads and chunks.
    static func event(_ sequence: Int) -> String {
        "Event: VarSet\r\nChannel: SIP/1001-0001\r\nSequence: \(sequence)\r\nVariable: PAD\r\nValue: \(String(repeating: "x", count: valueLength(sequence)))\r\n\r\n"
    }

    static func valueLength(_ sequence: Int) -> Int {
        sequence % 7 == 0 ? 1 + (sequence * 37) % 9_000 : 3
    }

    @Test("2,000 events written in pseudo-random pieces of 1 to 9,000 bytes arrive whole and in order")
    func randomSplits() async throws {
        let total = 2_000
        let bytes = Array((1...total).map(Self.event).joined().utf8)
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.asterisk { session in
            // A fixed linear congruential sequence: the same splits every run.
            var state: UInt64 = 0x2545_F491_4F6C_DD1D
            var offset = 0
            while offset < bytes.count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let length = min(1 + Int((state >> 33) % 9_000), bytes.count - offset)
                try await session.write(Array(bytes[offset..<(offset + length)]))
                offset += length
            }
        }) { server in
            let events = AMIEventStream(capacity: 100_000)
            let (outcome, _) = try await BackpressureTests.run(
                server: server, events: events,
                session: .init(username: "bridge", secret: "s3cret-AMI", loginTimeout: .seconds(60)),
                total: total, batchLimit: 4_096, recordTexts: true, slowDown: { _ in }
            )
            let (ordered, detail) = BackpressureTests.inOrder(outcome.sequences, total: total)
            #expect(ordered, detail)
            // Every byte of every event, not only its number: a message resumed one byte off
            // still parses, as a different event.
            let wrong = (1...total).first { outcome.texts.count < $0 || outcome.texts[$0 - 1] != Self.event($0) }
            #expect(wrong == nil, "event \(wrong ?? 0) differs from what was written")
            #expect(outcome.disconnects.isEmpty)
        }
    }
}
