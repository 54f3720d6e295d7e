import AMITestSupport
import Foundation
import NIOConcurrencyHelpers
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
        let found = try await output.first(after: index) { $0.contains(text) }
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
        // --json: the tests read the whole body of each delivery.
        let receiver = try ProcessUnderTest(["receive", "--port", "0", "--json"], environment: ["RECEIVE_SECRET": secret])
        let line = try await receiver.line(containing: "listening on").line
        return (receiver, try #require(WebhookEndToEndTests.listeningPort(line)))
    }
}

/// Holds fake Asterisk connections back until the test opens it (e.g. until a reload is done).
final class Gate: Sendable {
    private struct State {
        var open = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    func open() {
        let waiters = state.withLockedValue { state in
            state.open = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the gate opens, or at once when the waiting task is cancelled (the fake
    /// server shutting down); callers check `Task.isCancelled`.
    func wait() async {
        let id = state.withLockedValue { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let pass = state.withLockedValue { state in
                    if state.open || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if pass { continuation.resume() }
            }
        } onCancel: {
            state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
