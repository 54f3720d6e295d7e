import CRMSink
import Foundation
import Testing

/// Held calls: written with the webhooks that precede them, in one transaction, and read back by
/// the next process that opens the same state directory.
@Suite struct OutboxHeldCallsTests {
    static let rowWait = HeldCall.Kind(rawValue: "vicidial_row")
    static let dispositionWait = HeldCall.Kind(rawValue: "disposition")

    @Test func heldCallsOutliveTheProcessThatWroteThem() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        do {
            let outbox = try Outbox(stateDirectory: directory.path)
            try outbox.commitBlocking(OutboxBatch(holds: [
                HeldCall(kind: Self.rowWait, callKey: "dialer1/1.1", payload: Array("first".utf8), deadline: 1_700_000_060.5),
                HeldCall(kind: Self.rowWait, callKey: "dialer1/1.2", payload: Array("second".utf8), deadline: 1_700_000_030),
                HeldCall(kind: Self.dispositionWait, callKey: "dialer1/1.3", payload: Array("third".utf8), deadline: 1_700_001_800),
            ]))
        }
        let reopened = try Outbox(stateDirectory: directory.path)
        let rows = try reopened.heldCalls(Self.rowWait)
        // Oldest deadline first, payload and deadline as written.
        #expect(rows.map(\.callKey) == ["dialer1/1.2", "dialer1/1.1"])
        #expect(rows.map { String(decoding: $0.payload, as: UTF8.self) } == ["second", "first"])
        #expect(rows.last?.deadline == 1_700_000_060.5)
        #expect(try reopened.heldCalls(Self.dispositionWait).map(\.callKey) == ["dialer1/1.3"])
        #expect(try reopened.heldCallCounts() == [Self.rowWait: 2, Self.dispositionWait: 1])
    }

    @Test func oneBatchMovesACallFromItsRowWaitToItsDispositionWaitWithItsWebhook() throws {
        try OutboxTests.withOutbox { outbox in
            let held = HeldCall(kind: Self.rowWait, callKey: "dialer1/2.1", payload: [1], deadline: 100)
            try outbox.commitBlocking(OutboxBatch(holds: [held]))
            let complete = WebhookEvent(name: .callComplete, callKey: "dialer1/2.1")
            try outbox.commitBlocking(OutboxBatch(
                deliveries: OutboxTests.deliveries([complete]),
                holds: [HeldCall(kind: Self.dispositionWait, callKey: "dialer1/2.1", payload: [2], deadline: 200)],
                releases: [held.id]
            ))
            #expect(try outbox.heldCalls(Self.rowWait).isEmpty)
            #expect(try outbox.heldCalls(Self.dispositionWait).map(\.payload) == [[2]])
            #expect(try outbox.claim(limit: 10).map(\.eventID) == [complete.eventID])
        }
    }

    @Test func aCallHeldTwiceForOneWaitKeepsItsLatestState() throws {
        try OutboxTests.withOutbox { outbox in
            try outbox.commitBlocking(OutboxBatch(holds: [
                HeldCall(kind: Self.rowWait, callKey: "dialer1/3.1", payload: [1], deadline: 1),
                HeldCall(kind: Self.rowWait, callKey: "dialer1/3.1", payload: [2], deadline: 2),
            ]))
            #expect(try outbox.heldCalls(Self.rowWait).map(\.payload) == [[2]])
        }
    }

    @Test func concurrentCommitsShareTransactionsAndAllArrive() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outbox = try Outbox(stateDirectory: directory.path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let event = WebhookEvent(name: .callAnswered, callKey: "dialer1/4.\(index)")
                    try await outbox.commit(OutboxBatch(
                        deliveries: OutboxTests.deliveries([event]),
                        holds: [HeldCall(kind: Self.rowWait, callKey: "dialer1/4.\(index)", payload: [UInt8(index % 256)], deadline: Double(index))]
                    ))
                }
            }
            try await group.waitForAll()
        }
        #expect(try outbox.heldCalls(Self.rowWait).count == 200)
        #expect(try outbox.counts()["crm"]?[.pending] == 200)
    }
}
