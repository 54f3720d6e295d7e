@testable import MariaDB
import Testing

/// The pool's line for connections as input → action sequences (waiters are plain names here).
@Suite("MariaDB lease queue")
struct MariaDBLeaseQueueTests {
    typealias Queue = MariaDBLeaseQueue<String>

    @Test("idle slots are handed out in turn; none idle means nil")
    func idleSlotsInTurn() {
        var queue = Queue(slots: 3)
        #expect(queue.leaseIfIdle(.anySlot) == 0)
        #expect(queue.leaseIfIdle(.anySlot) == 1)
        #expect(queue.leaseIfIdle(.anySlot) == 2)
        #expect(queue.leaseIfIdle(.anySlot) == nil)
        #expect(queue.leaseIfIdle(.slot(1)) == nil)
        guard case .idle = queue.released(slot: 0) else { Issue.record("nobody waits"); return }
        // The search goes on from the last slot handed out, so every connection gets used.
        guard case .idle = queue.released(slot: 2) else { Issue.record("nobody waits"); return }
        #expect(queue.leaseIfIdle(.anySlot) == 0)
        #expect(queue.leaseIfIdle(.slot(2)) == 2)
    }

    @Test("a released slot goes to the first waiter that can take it, in order")
    func releasedSlotsGoInOrder() {
        var queue = Queue(slots: 2)
        #expect(queue.leaseIfIdle(.anySlot) == 0)
        #expect(queue.leaseIfIdle(.anySlot) == 1)
        guard case .wait = queue.waitRequested(id: 1, request: .slot(1), waiter: "wants 1"),
              case .wait = queue.waitRequested(id: 2, request: .anySlot, waiter: "first any"),
              case .wait = queue.waitRequested(id: 3, request: .anySlot, waiter: "second any")
        else { Issue.record("every slot is taken: they wait"); return }
        #expect(queue.waitingCount == 3)

        // Slot 0 cannot serve "wants 1": the first waiter for any slot gets it.
        guard case .handOver(0, let first) = queue.released(slot: 0) else { Issue.record("slot 0 handed over"); return }
        #expect(first == "first any")
        guard case .handOver(1, let second) = queue.released(slot: 1) else { Issue.record("slot 1 handed over"); return }
        #expect(second == "wants 1")
        guard case .handOver(0, let third) = queue.released(slot: 0) else { Issue.record("slot 0 handed over"); return }
        #expect(third == "second any")
        guard case .idle = queue.released(slot: 0), case .idle = queue.released(slot: 1) else {
            Issue.record("nobody left waiting"); return
        }
        #expect(queue.waitingCount == 0)
    }

    @Test("a waiter whose wait ends leaves the line; one already served is not found")
    func endedWaits() {
        var queue = Queue(slots: 1)
        #expect(queue.leaseIfIdle(.anySlot) == 0)
        guard case .wait = queue.waitRequested(id: 1, request: .anySlot, waiter: "gives up"),
              case .wait = queue.waitRequested(id: 2, request: .anySlot, waiter: "stays")
        else { Issue.record("they wait"); return }
        #expect(queue.waitEnded(id: 1) == "gives up")
        guard case .handOver(0, let served) = queue.released(slot: 0) else { Issue.record("handed over"); return }
        #expect(served == "stays")
        // Its time limit fires just after it was served: it keeps the slot, nothing to resume.
        #expect(queue.waitEnded(id: 2) == nil)
        #expect(queue.leaseIfIdle(.anySlot) == nil)
    }

    @Test("a wait asked for while a slot is idle gets it at once")
    func waitRequestedWhileIdle() {
        var queue = Queue(slots: 2)
        #expect(queue.leaseIfIdle(.slot(0)) == 0)
        guard case .lease(slot: 1) = queue.waitRequested(id: 1, request: .anySlot, waiter: "lucky") else {
            Issue.record("slot 1 is idle"); return
        }
        #expect(queue.waitingCount == 0)
    }
}
