import AMITestSupport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Synchronization
import Testing

/// `OutboxCrashHelper` (the real outbox and dispatcher in their own process) killed with SIGKILL
/// while deliveries are pending and in flight, then started again: every event still arrives.
@Suite struct OutboxCrashTests {
    static let helper = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("OutboxCrashHelper")

    static func launch(_ arguments: [String]) throws -> (Process, AsyncStream<String>.AsyncIterator) {
        let process = Process()
        process.executableURL = helper
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, ChildProcess.lines(of: output.fileHandleForReading).makeAsyncIterator())
    }

    @Test(.timeLimit(.minutes(1)))
    func killNineWhileDeliveringThenRestartDeliversEveryEvent() async throws {
        let total = 300
        // The first run gets 40 answers, then its requests hang: when it dies, requests are in
        // flight and most events are still pending, however fast the machine is.
        let answered = NIOLockedValueBox(0)
        let killed = Atomic<Bool>(false)
        let server = try await RecordingHTTPServer.start(.script { _ in
            let count = answered.withLockedValue { $0 += 1; return $0 }
            if count > 40, !killed.load(ordering: .acquiring) { return (.neverRespond, .zero) }
            return (.respond(status: .ok), .milliseconds(5))
        })
        let received = ReceivedRequests(server)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let arguments = [directory.path + "/outbox.sqlite3", "http://127.0.0.1:\(server.port)/hook", String(total), "40"]

        var (first, firstOutput) = try Self.launch(arguments)
        #expect(await firstOutput.next() == "enqueued")
        _ = try await received.first(40)
        kill(first.processIdentifier, SIGKILL)
        await ChildProcess.waitForExit(first)
        killed.store(true, ordering: .releasing)
        #expect(first.terminationReason == .uncaughtSignal)
        let beforeRestart = received.all.count
        #expect(beforeRestart < total, "the helper finished before it was killed: nothing was tested")
        // The first run's connections, by client port: its in-flight requests may still be on
        // their way to the server, but they come on these.
        let firstRunPorts = Set(received.all.compactMap(\.clientPort))

        var (second, secondOutput) = try Self.launch(arguments)
        #expect(await secondOutput.next() == "enqueued")
        #expect(await secondOutput.next() == "drained")
        await ChildProcess.waitForExit(second)
        #expect(second.terminationStatus == 0)
        try await server.shutdown()
        let requests = await received.final()

        let expected = Set((0..<total).map { String(format: "00000000-0000-4000-8000-%012d", $0) })
        let ids = requests.compactMap { $0.headers["X-AMIBridge-Delivery"].first }
        #expect(ids.count == requests.count)
        #expect(Set(ids) == expected)
        // At least once: a duplicate is only ever an id the first run had sent (in flight at the kill).
        let firstRun = Set(requests.filter { firstRunPorts.contains($0.clientPort ?? -1) }.compactMap { $0.headers["X-AMIBridge-Delivery"].first })
        var seen = Set<String>()
        let duplicates = ids.filter { !seen.insert($0).inserted }
        #expect(Set(duplicates).isSubset(of: firstRun))
    }
}
