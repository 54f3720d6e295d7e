@testable import CRMSink
import Foundation
import Testing

/// The outbox on a real SQLite file: what is claimed when, per-call order, crash recovery, and the
/// operations behind `amibridge outbox`.
@Suite struct OutboxTests {
    static let endpoint = try! WebhookEndpoint.Configuration(name: "crm", url: "http://127.0.0.1:9/hook")

    static func deliveries(_ events: [WebhookEvent]) -> [OutboxNewDelivery] {
        events.flatMap { OutboxNewDelivery.deliveries(of: $0, to: [endpoint]) }
    }

    static func withOutbox(_ body: (Outbox) throws -> Void) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try body(try Outbox(stateDirectory: directory.path))
    }

    @Test func aLaterEventOfTheSameCallWaitsUntilTheEarlierOneIsDone() throws {
        try Self.withOutbox { outbox in
            let complete = WebhookEvent(name: .callComplete, callKey: "call-1")
            let disposition = WebhookEvent(name: .dispositionSet, callKey: "call-1")
            let other = WebhookEvent(name: .callComplete, callKey: "call-2")
            try outbox.enqueueBlocking(Self.deliveries([complete, disposition, other]))

            let first = try outbox.claim(limit: 10)
            #expect(first.map(\.eventID) == [complete.eventID, other.eventID])
            #expect(try outbox.claim(limit: 10).isEmpty)

            // A retry holds the call's later event back too.
            try outbox.record([.retry(id: first[0].id, at: Date().addingTimeInterval(-1), status: 503, error: "HTTP 503")])
            #expect(try outbox.claim(limit: 10).map(\.eventID) == [complete.eventID])
            try outbox.record([.delivered(id: first[0].id), .delivered(id: first[1].id)])

            let second = try outbox.claim(limit: 10)
            #expect(second.map(\.eventID) == [disposition.eventID])
            #expect(second.first?.attempts == 1)
        }
    }

    @Test func aDeadEventNoLongerHoldsItsCallBack() throws {
        try Self.withOutbox { outbox in
            let complete = WebhookEvent(name: .callComplete, callKey: "call-1")
            let disposition = WebhookEvent(name: .dispositionSet, callKey: "call-1")
            try outbox.enqueueBlocking(Self.deliveries([complete, disposition]))
            let first = try outbox.claim(limit: 10)
            try outbox.record([.dead(id: first[0].id, status: 410, error: "HTTP 410")])
            #expect(try outbox.claim(limit: 10).map(\.eventID) == [disposition.eventID])
        }
    }

    @Test func aRetryIsNotClaimedBeforeItsTime() throws {
        try Self.withOutbox { outbox in
            try outbox.enqueueBlocking(Self.deliveries([WebhookEvent(name: .callComplete, callKey: "c")]))
            let now = Date()
            let claimed = try outbox.claim(now: now, limit: 1)
            let later = now.addingTimeInterval(30)
            try outbox.record([.retry(id: claimed[0].id, at: later, status: nil, error: "refused")])
            #expect(try outbox.claim(now: now, limit: 1).isEmpty)
            #expect(try outbox.nextAttempt(after: now).map { abs($0.timeIntervalSince(later)) < 0.002 } == true)
            #expect(try outbox.claim(now: later, limit: 1).map(\.attempts) == [2])
        }
    }

    @Test func afterACrashWhatWasInFlightIsPendingAgain() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let event = WebhookEvent(name: .callComplete, callKey: "c")
        do {
            let outbox = try Outbox(stateDirectory: directory.path)
            try outbox.enqueueBlocking(Self.deliveries([event]))
            #expect(try outbox.claim(limit: 1).count == 1)
            #expect(try outbox.claim(limit: 1).isEmpty)
        }
        let reopened = try Outbox(stateDirectory: directory.path)
        #expect(try reopened.counts() == ["crm": [.inFlight: 1]])
        #expect(try reopened.resetInFlight() == 1)
        #expect(try reopened.claim(limit: 1).map(\.eventID) == [event.eventID])
    }

    @Test func concurrentEmittersAreAllOnDiskWhenTheyReturn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outbox = try Outbox(stateDirectory: directory.path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await outbox.enqueue(Self.deliveries([WebhookEvent(name: .callComplete, callKey: "call-\(index)")]))
                }
            }
            try await group.waitForAll()
        }
        // Another connection (as after a restart) sees every row.
        #expect(try Outbox(stateDirectory: directory.path).counts() == ["crm": [.pending: 200]])
    }

    @Test func deadLettersCanBeListedRetriedAndPurged() throws {
        try Self.withOutbox { outbox in
            let events = (0..<3).map { WebhookEvent(name: .callComplete, callKey: "call-\($0)") }
            try outbox.enqueueBlocking(Self.deliveries(events))
            let claimed = try outbox.claim(limit: 3)
            try outbox.record(claimed.map { .dead(id: $0.id, status: 404, error: "HTTP 404") })

            let dead = try outbox.list(OutboxSelection(states: [.dead]), limit: 10)
            #expect(dead.map(\.eventID) == events.map(\.eventID))
            #expect(dead.allSatisfy { $0.lastStatus == 404 && $0.lastError == "HTTP 404" && $0.attempts == 1 })

            #expect(try outbox.retry(OutboxSelection(states: [.dead], ids: [dead[0].id])) == 1)
            #expect(try outbox.purge(OutboxSelection(states: [.dead], endpoint: "other")) == 0)
            #expect(try outbox.purge(OutboxSelection(states: [.dead])) == 2)
            let retried = try outbox.claim(limit: 10)
            #expect(retried.map(\.eventID) == [events[0].eventID])
            #expect(retried.first?.attempts == 1)
        }
    }
}

/// The WAL stays bounded: no statement of the outbox keeps a read transaction open between
/// calls, so a checkpoint can always restart the WAL. (The dispatcher's `nextAttempt` once left
/// its statement on a row: under load the WAL grew to 6.5 GB in 3 minutes and RSS with it.)
@Suite struct OutboxWALTests {
    @Test func afterEveryReadACheckpointCanEmptyTheWAL() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outbox = try Outbox(stateDirectory: directory.path)
        try outbox.enqueueBlocking(OutboxTests.deliveries((0..<50).map { WebhookEvent(name: .callComplete, callKey: "c\($0)") }))
        let now = Date()
        let claimed = try outbox.claim(now: now, limit: 50)
        try outbox.record(claimed.map { .retry(id: $0.id, at: now.addingTimeInterval(60), status: 503, error: "HTTP 503") })
        // Every read the dispatcher and the operators make, then a checkpoint from another connection.
        #expect(try outbox.nextAttempt(after: now) != nil)
        _ = try outbox.counts()
        _ = try outbox.claim(now: now, limit: 10)
        let other = try SQLiteDatabase(path: directory.path + "/outbox.sqlite3")
        let checkpoint = try other.prepare("PRAGMA wal_checkpoint(TRUNCATE)")
        #expect(try checkpoint.step())
        #expect(checkpoint.integer(0) == 0, "a reader held the WAL: the checkpoint was blocked")
        #expect(checkpoint.integer(1) == 0, "the WAL was not emptied: \(checkpoint.integer(1)) frames left")
    }
}
