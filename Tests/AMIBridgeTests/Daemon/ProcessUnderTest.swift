import AMITestSupport
import Foundation
import Synchronization
import Testing

/// A built `amibridge` subcommand running as a child process, with every line it writes on stdout
/// kept and awaitable: a test waits for the line that proves what it needs, never for a time.
final class ProcessUnderTest: Sendable {
    let process: Process
    let output: LineLog
    let errors: LineLog

    init(_ arguments: [String], environment: [String: String]) throws {
        let (process, stdout, stderr) = try DaemonProcessTests.launch(arguments, environment: environment)
        self.process = process
        self.output = LineLog(ChildProcess.lines(of: stdout.fileHandleForReading))
        self.errors = LineLog(ChildProcess.lines(of: stderr.fileHandleForReading))
    }

    /// Runs a command to its end without blocking a thread of Swift's pool (a blocking read there
    /// would starve the test's own fake servers): exit status and every line, stdout and stderr.
    static func run(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, lines: [String], errors: [String]) {
        let command = try ProcessUnderTest(arguments, environment: environment)
        let lines = await command.output.all()
        let errors = await command.errors.all()
        await ChildProcess.waitForExit(command.process)
        return (command.process.terminationStatus, lines, errors)
    }

    /// The first line (after line `index`) that contains `text`; fails when the output ends first.
    @discardableResult
    func line(containing text: String, after index: Int = -1) async throws -> (index: Int, line: String) {
        let found = await output.first(after: index) { $0.contains(text) }
        return try #require(found, "the process ended without writing a line containing \(text); it wrote:\n\(output.lines.joined(separator: "\n"))")
    }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// SIGTERM, then wait for the exit.
    func stop() async {
        if process.isRunning { process.terminate() }
        await ChildProcess.waitForExit(process)
    }

    /// The port in the daemon's `HTTP API listening` line.
    func apiPort() async throws -> Int {
        let line = try await line(containing: "HTTP API listening").line
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        return try #require((object?["port"] as? String).flatMap { Int($0) })
    }

    /// `amibridge receive --port 0`, a stand-in CRM checking signatures with `secret`; returns it
    /// once it names its port.
    static func receiver(secret: String) async throws -> (receiver: ProcessUnderTest, port: Int) {
        let receiver = try ProcessUnderTest(["receive", "--port", "0"], environment: ["RECEIVE_SECRET": secret])
        let line = try await receiver.line(containing: "listening on").line
        return (receiver, try #require(WebhookEndToEndTests.listeningPort(line)))
    }
}

/// Lines of a child's output as they arrive; waiters resume as soon as their line is there.
final class LineLog: Sendable {
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

    private let state = Mutex(State())

    init(_ stream: AsyncStream<String>) {
        // Lives as long as the child's output: the stream finishes when the child exits.
        Task { [self] in
            for await line in stream { append(line) }
            finish()
        }
    }

    var lines: [String] { state.withLock { $0.lines } }

    /// Every line, once the output has ended.
    func all() async -> [String] {
        _ = await first(after: -1) { _ in false }
        return lines
    }

    func first(after index: Int, where predicate: @escaping @Sendable (String) -> Bool) async -> (index: Int, line: String)? {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: (index: Int, line: String)?? = state.withLock { state in
                    if let found = Self.search(state.lines, after: index, predicate) { return .some(found) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiters[id] = Waiter(after: index, predicate: predicate, continuation: continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(returning: nil)
        }
    }

    private func append(_ line: String) {
        let resumed = state.withLock { state -> [(CheckedContinuation<(index: Int, line: String)?, Never>, (index: Int, line: String))] in
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
        let waiters = state.withLock { state in
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

/// Holds fake Asterisk connections back until the test opens it (e.g. until a reload is done).
final class Gate: Sendable {
    private struct State {
        var open = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the gate opens, or at once when the waiting task is cancelled (the fake
    /// server shutting down); callers check `Task.isCancelled`.
    func wait() async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let pass = state.withLock { state in
                    if state.open || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if pass { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
