import NIOConcurrencyHelpers

/// Lines of a child's output as they arrive; waiters resume as soon as their line is there.
public final class LineLog: Sendable {
    private struct Waiter {
        var after: Int
        var predicate: @Sendable (String) -> Bool
        var continuation: CheckedContinuation<(index: Int, line: String)?, Never>
    }

    private struct State {
        var lines: [String] = []
        var finished = false
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    public init(_ stream: AsyncStream<String>) {
        // Lives as long as the child's output: the stream finishes when the child exits.
        Task { [self] in
            for await line in stream { append(line) }
            finish()
        }
    }

    public var lines: [String] { state.withLockedValue { $0.lines } }

    /// Every line, once the output has ended.
    public func all() async -> [String] {
        _ = await waitForFirst(after: -1) { _ in false }
        return lines
    }

    /// The first line after line `index` (-1: from the start) that matches; nil when the output
    /// ends first. Bounded by `limit`, so a line that never comes fails the test instead of hanging it.
    public func first(after index: Int = -1, within limit: Duration = .seconds(120), where predicate: @escaping @Sendable (String) -> Bool) async throws -> (index: Int, line: String)? {
        try await withDeadline(limit) { await self.waitForFirst(after: index, where: predicate) }
    }

    private func waitForFirst(after index: Int, where predicate: @escaping @Sendable (String) -> Bool) async -> (index: Int, line: String)? {
        let id = state.withLockedValue { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: (index: Int, line: String)?? = state.withLockedValue { state in
                    if let found = Self.search(state.lines, after: index, predicate) { return .some(found) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiters[id] = Waiter(after: index, predicate: predicate, continuation: continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.continuation.resume(returning: nil)
        }
    }

    private func append(_ line: String) {
        let resumed = state.withLockedValue { state -> [(CheckedContinuation<(index: Int, line: String)?, Never>, (index: Int, line: String))] in
            state.lines.append(line)
            let index = state.lines.count - 1
            var resumed: [(CheckedContinuation<(index: Int, line: String)?, Never>, (index: Int, line: String))] = []
            for (id, waiter) in state.waiters where index > waiter.after && waiter.predicate(line) {
                resumed.append((waiter.continuation, (index, line)))
                state.waiters.removeValue(forKey: id)
            }
            return resumed
        }
        for (continuation, found) in resumed { continuation.resume(returning: found) }
    }

    private func finish() {
        let waiters = state.withLockedValue { state in
            state.finished = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
    }

    private static func search(_ lines: [String], after index: Int, _ predicate: (String) -> Bool) -> (index: Int, line: String)? {
        lines.indices.dropFirst(max(0, index + 1)).first { predicate(lines[$0]) }.map { ($0, lines[$0]) }
    }
}

