import NIOConcurrencyHelpers

/// A bounded set of strings that forgets the oldest first.
final class RecentSet: Sendable {
    private struct State {
        var members: Set<String> = []
        var order: [String] = []
        var head = 0
    }

    private let state = NIOLockedValueBox(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func insert(_ values: [String]) {
        state.withLockedValue { state in
            for value in values where state.members.insert(value).inserted {
                state.order.append(value)
                if state.members.count > capacity {
                    state.members.remove(state.order[state.head])
                    state.head += 1
                    if state.head > capacity { state.order.removeFirst(state.head); state.head = 0 }
                }
            }
        }
    }

    var snapshot: Set<String> { state.withLockedValue { $0.members } }
}
