import AMITestSupport
import Foundation

/// Runs many short `amibridge` commands a few at a time, each killed if it outlives `limit` (a
/// command that should have failed at once but started the daemon instead, or hung).
enum BoundedProcessRuns {
    struct Result: Sendable {
        var status: Int32
        var reason: Process.TerminationReason
        var lines: [String]
        var errors: [String]
        var timedOut: Bool
    }

    static func run(_ commands: [[String]], environment: [String: String], concurrency: Int, limit: Duration) async throws -> [Result] {
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            var results = [Result?](repeating: nil, count: commands.count)
            var next = 0
            func start() throws {
                guard next < commands.count else { return }
                let index = next
                let arguments = commands[index]
                next += 1
                group.addTask { (index, try await runOne(arguments, environment: environment, limit: limit)) }
            }
            for _ in 0..<concurrency { try start() }
            while let (index, result) = try await group.next() {
                results[index] = result
                try start()
            }
            return results.map { $0! }
        }
    }

    static func runOne(_ arguments: [String], environment: [String: String], limit: Duration) async throws -> Result {
        let command = try ProcessUnderTest(arguments, environment: environment)
        let watchdog = Task {
            try await Task.sleep(for: limit)
            kill(command.process.processIdentifier, SIGKILL)
            return true
        }
        let lines = await command.output.all()
        let errors = await command.errors.all()
        await ChildProcess.waitForExit(command.process)
        watchdog.cancel()
        let timedOut = (try? await watchdog.value) ?? false
        return Result(status: command.process.terminationStatus, reason: command.process.terminationReason, lines: lines, errors: errors, timedOut: timedOut)
    }
}
