/// Who uses which connection, and who waits: the decisions of ``MariaDBConnectionLeases``, with
/// no I/O, no clock and no locking.
///
/// Each slot is one connection (one ``MariaDBClient``), used by one call at a time. A call asks
/// for any slot (the pool) or for one given slot (a client used on its own). It gets an idle slot
/// at once, else it waits in line; a released slot goes to the first waiter in line that can take
/// it, so nobody is overtaken. A waiter's wait may end first (its time limit, its task
/// cancelled): it leaves the line, unless it was already handed a slot.
///
/// `Waiter` is what the caller resumes (a continuation); it travels with the request and comes
/// back in the action that serves it.
struct MariaDBLeaseQueue<Waiter> {
    /// What a call asks for.
    enum Request: Hashable, Sendable {
        /// Whichever connection is idle first (``MariaDBPool``).
        case anySlot
        /// This connection and no other (a ``MariaDBClient`` on its own).
        case slot(Int)
    }

    enum EnqueueAction {
        /// A slot was idle after all: the caller has it and resumes its waiter itself.
        case lease(slot: Int)
        /// The waiter is in line.
        case wait
    }

    enum ReleaseAction {
        /// Resume `waiter` with `slot`, which it now holds.
        case handOver(slot: Int, to: Waiter)
        /// Nobody waits for it: the slot is idle.
        case idle
    }

    fileprivate struct Entry {
        var id: UInt64
        var request: Request
        var waiter: Waiter
    }

    private var isIdle: [Bool]
    /// Where the search for an idle slot starts, so that calls spread over every connection
    /// (each stays warm, and a connection the server dropped shows on the next call, not much later).
    private var nextSlot = 0
    private var line: [Entry] = []

    init(slots: Int) {
        precondition(slots > 0, "a lease queue needs at least one slot")
        isIdle = Array(repeating: true, count: slots)
    }

    var slotCount: Int { isIdle.count }
    var waitingCount: Int { line.count }

    /// A call asks for `request` without waiting: the slot it now holds, or nil when none is idle.
    mutating func leaseIfIdle(_ request: Request) -> Int? {
        switch request {
        case .slot(let slot):
            precondition(isIdle.indices.contains(slot), "no slot \(slot)")
            guard isIdle[slot] else { return nil }
            isIdle[slot] = false
            return slot
        case .anySlot:
            for offset in 0..<isIdle.count {
                let slot = (nextSlot + offset) % isIdle.count
                if isIdle[slot] {
                    isIdle[slot] = false
                    nextSlot = slot + 1
                    return slot
                }
            }
            return nil
        }
    }

    /// A call found no idle slot and now waits in line, unless one became idle meanwhile.
    mutating func waitRequested(id: UInt64, request: Request, waiter: Waiter) -> EnqueueAction {
        if let slot = leaseIfIdle(request) { return .lease(slot: slot) }
        line.append(Entry(id: id, request: request, waiter: waiter))
        return .wait
    }

    /// The call holding `slot` is done with it.
    mutating func released(slot: Int) -> ReleaseAction {
        precondition(isIdle.indices.contains(slot) && !isIdle[slot], "slot \(slot) released but not held")
        let taker = line.firstIndex { entry in
            switch entry.request {
            case .anySlot: true
            case .slot(let wanted): wanted == slot
            }
        }
        guard let taker else {
            isIdle[slot] = true
            return .idle
        }
        return .handOver(slot: slot, to: line.remove(at: taker).waiter)
    }

    /// The wait of call `id` ended (time limit, cancellation). Its waiter, to resume with the
    /// reason, or nil when it is no longer in line: it was handed a slot first.
    mutating func waitEnded(id: UInt64) -> Waiter? {
        guard let index = line.firstIndex(where: { $0.id == id }) else { return nil }
        return line.remove(at: index).waiter
    }
}

extension MariaDBLeaseQueue: Sendable where Waiter: Sendable {}
extension MariaDBLeaseQueue.Entry: Sendable where Waiter: Sendable {}
