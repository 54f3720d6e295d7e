import Synchronization

/// Every line a child process has written so far, and a way to wait for the first one that
/// matches, woken by the line's arrival rather than by polling. One reader drains the stream for
/// the whole test, so several waits in sequence never miss a line.
public final class LineLog: Sendable {
    private struct Waiter {
        var id: Int
        var matches: @Sendable (String) -> Bool
        var continuation: CheckedContinuation<String?, Never>
    }

    private struct State {
        var lines: [String] = []
        var finished = false
        var waiters: [Waiter] = []
        var nextWaiterID = 0
    }

    private final class Storage: Sendable {
        let state = Mutex(State())

        /// Resumes and removes the waiters `take` picks.
        func resume(_ line: String?, _ take: (inout State) -> [Waiter]) {
            let ready = state.withLock { take(&$0) }
            for waiter in ready { waiter.continuation.resume(returning: line) }
        }
    }

    private let storage = Storage()
    private let reader: Task<Void, Never>

    public init(_ lines: AsyncStream<String>) {
        let storage = self.storage
        reader = Task {
            for await line in lines {
                storage.resume(line) { state in
                    state.lines.append(line)
                    // Each waiter's predicate sees each line once (``line(_:where:)`` counts on it).
                    var ready: [Waiter] = []
                    state.waiters.removeAll { waiter in
                        guard waiter.matches(line) else { return false }
                        ready.append(waiter)
                        return true
                    }
                    return ready
                }
            }
            storage.resume(nil) { state in
                state.finished = true
                defer { state.waiters = [] }
                return state.waiters
            }
        }
    }

    deinit { reader.cancel() }

    public var all: [String] { storage.state.withLock { $0.lines } }

    /// How many lines so far match.
    public func count(where matches: (String) -> Bool) -> Int { storage.state.withLock { $0.lines.filter(matches).count } }

    /// The first line so far or to come that matches; fails if the output ends or `limit` passes.
    public func first(within limit: Duration = .seconds(60), where matches: @escaping @Sendable (String) -> Bool) async throws -> String {
        let storage = self.storage
        let line = try await withDeadline(limit) {
            let id = storage.state.withLock { state in
                defer { state.nextWaiterID += 1 }
                return state.nextWaiterID
            }
            return await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                    let found: String?? = storage.state.withLock { state in
                        if let line = state.lines.first(where: matches) { return .some(line) }
                        if state.finished || Task.isCancelled { return .some(nil) }
                        state.waiters.append(Waiter(id: id, matches: matches, continuation: continuation))
                        return nil
                    }
                    if let found { continuation.resume(returning: found) }
                }
            } onCancel: {
                storage.resume(nil) { state in
                    let mine = state.waiters.filter { $0.id == id }
                    state.waiters.removeAll { $0.id == id }
                    return mine
                }
            }
        }
        guard let line else { throw OutputEnded() }
        return line
    }

    /// The `n`th line (from 1) that matches, so far or to come.
    public func line(_ n: Int, within limit: Duration = .seconds(60), where matches: @escaping @Sendable (String) -> Bool) async throws -> String {
        // Each line is offered to a waiter once, in order: counting the matches seen finds the nth.
        let seen = Mutex(0)
        return try await first(within: limit) { line in
            guard matches(line) else { return false }
            return seen.withLock { $0 += 1; return $0 >= n }
        }
    }

    public struct OutputEnded: Error, CustomStringConvertible {
        public var description: String { "the process's output ended before the expected line" }
    }
}
