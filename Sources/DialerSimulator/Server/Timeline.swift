/// What is due when: every call's events, rows and agent releases in one min-heap by time (ties
/// in the order they were added), so the stream interleaves concurrent calls as Asterisk does.
struct Timeline: Sendable {
    enum Item: Sendable {
        case event(ScriptedEvent)
        case row(ViciDialRowWrite)
        /// The agent may take the next call.
        case agentFree(index: Int)
        /// The call's last event is out: forget it.
        case callDone
    }

    struct Entry: Sendable {
        var at: Double
        var order: Int
        var call: Int
        var item: Item

        func precedes(_ other: Entry) -> Bool { (at, order) < (other.at, other.order) }
    }

    private var heap: [Entry] = []
    private var nextOrder = 0

    var count: Int { heap.count }

    mutating func add(_ item: Item, at time: Double, call: Int) {
        heap.append(Entry(at: time, order: nextOrder, call: call, item: item))
        nextOrder += 1
        siftUp(heap.count - 1)
    }

    /// The earliest entry if it is due at `now`.
    mutating func popDue(_ now: Double) -> Entry? {
        guard let first = heap.first, first.at <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return first
    }

    var nextDue: Double? { heap.first?.at }

    /// Takes every entry of `call` out (a Hangup action ends the call early); returns them.
    mutating func remove(call: Int) -> [Entry] {
        let removed = heap.filter { $0.call == call }
        guard !removed.isEmpty else { return [] }
        heap.removeAll { $0.call == call }
        for index in stride(from: heap.count / 2, through: 0, by: -1) { siftDown(index) }
        return removed
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var first = parent
            if left < heap.count, heap[left].precedes(heap[first]) { first = left }
            if right < heap.count, heap[right].precedes(heap[first]) { first = right }
            guard first != parent else { return }
            heap.swapAt(parent, first)
            parent = first
        }
    }
}
