import EventMapper
import MariaDB
import Synchronization
import ViciDial

/// Measures a disposition poll at scale: how many statements one poll takes and how long it
/// waits, with `waitingCalls` calls whose agents have not disposed yet (every poll reads all).
public enum DispositionWatcherBenchmark {
    public struct Result: Sendable {
        public var waitingCalls: Int
        public var polls: Int
        /// Statements per poll: 1 unless the calls exceed one statement's key limit.
        public var queriesPerPoll: Double
        public var pollLatencies: [Duration]
        public var medianPollLatency: Duration {
            let sorted = pollLatencies.sorted()
            return sorted.isEmpty ? .zero : sorted[sorted.count / 2]
        }
    }

    /// Seeds `waitingCalls` rows (a tenth of them inbound) with a status of INCALL, watches them
    /// all, runs `polls` polls, then deletes the rows. `client` must be allowed to INSERT and
    /// DELETE on `vicidial_log` and `vicidial_closer_log` (the private test instance's root):
    /// the bridge's own read-only user is not.
    public static func run(client: MariaDBClient, waitingCalls: Int = 10_000, polls: Int = 5) async throws -> Result {
        let runID = String(UInt32.random(in: 10_000_000...99_999_999))
        do {
            let result = try await measure(client: client, runID: runID, waitingCalls: waitingCalls, polls: polls)
            try await cleanUp(client: client, runID: runID)
            return result
        } catch {
            try? await cleanUp(client: client, runID: runID)
            throw error
        }
    }

    private static func measure(client: MariaDBClient, runID: String, waitingCalls: Int, polls: Int) async throws -> Result {
        let calls = try await seed(client: client, runID: runID, count: waitingCalls)
        let counting = CountingDatabase(base: client)
        let watcher = DispositionWatcher(
            repository: ViciDialRepository(database: counting),
            configuration: .init(pollInterval: 1, maximumWait: Double(polls + 10), maximumWaiting: waitingCalls)
        )
        for call in calls { _ = await watcher.watch(call, at: 0) }
        var latencies: [Duration] = []
        let clock = ContinuousClock()
        for poll in 1...max(1, polls) {
            let before = counting.count
            let started = clock.now
            let outcomes = await watcher.poll(at: Double(poll))
            latencies.append(clock.now - started)
            if let error = await watcher.lastError { throw error }
            precondition(outcomes.isEmpty && counting.count > before, "the benchmark's calls must all still wait")
        }
        return Result(
            waitingCalls: waitingCalls, polls: latencies.count,
            queriesPerPoll: Double(counting.count) / Double(latencies.count), pollLatencies: latencies
        )
    }

    private static func seed(client: MariaDBClient, runID: String, count: Int) async throws -> [EnrichedCall] {
        var calls: [EnrichedCall] = []
        let inboundCount = count / 10
        let batch = 1_000
        var index = 0
        while index < count {
            let size = min(batch, count - index)
            let inbound = index < inboundCount
            let table = inbound ? "vicidial_closer_log" : "vicidial_log"
            let rows = Array(repeating: "(?, ?, 'BENCH', 'INCALL', ?)", count: size).joined(separator: ", ")
            var values: [MariaDBValue] = []
            for offset in 0..<size {
                values += [.string("\(runID).\(index + offset)"), .int(Int64(index + offset + 1)), .int(1)]
            }
            _ = try await client.execute("INSERT INTO \(table) (uniqueid, lead_id, campaign_id, status, start_epoch) VALUES \(rows)", values)
            index += size
        }
        for row in try await client.query("SELECT closecallid, uniqueid FROM vicidial_closer_log WHERE uniqueid LIKE ?", [.string(runID + ".%")]) {
            if let id = try row.int("closecallid") { calls.append(call(runID: runID, rowID: .inbound(closeCallID: id), uniqueid: try row.string("uniqueid") ?? "")) }
        }
        for row in try await client.query("SELECT uniqueid FROM vicidial_log WHERE uniqueid LIKE ?", [.string(runID + ".%")]) {
            if let uniqueid = try row.string("uniqueid") { calls.append(call(runID: runID, rowID: .outbound(uniqueid: uniqueid), uniqueid: uniqueid)) }
        }
        return calls
    }

    private static func call(runID: String, rowID: ViciDialRowID, uniqueid: String) -> EnrichedCall {
        var data = ViciDialCallData(rowID: rowID, uniqueid: uniqueid, leadID: 1)
        data.status = "INCALL"
        return EnrichedCall(call: CallRecord(server: "bench", linkedid: "\(rowID)", legs: [], startedAt: 0), vicidial: data)
    }

    private static func cleanUp(client: MariaDBClient, runID: String) async throws {
        for table in ["vicidial_log", "vicidial_closer_log"] {
            _ = try await client.execute("DELETE FROM \(table) WHERE uniqueid LIKE ?", [.string(runID + ".%")])
        }
    }
}

/// A database that counts the statements it runs: how a poll's round trips are measured.
public final class CountingDatabase: ViciDialDatabase {
    public let base: any ViciDialDatabase
    private let counter = Atomic<Int>(0)

    public init(base: any ViciDialDatabase) {
        self.base = base
    }

    public var count: Int { counter.load(ordering: .relaxed) }

    public func query(_ sql: String, _ parameters: [MariaDBValue]) async throws -> [MariaDBRow] {
        counter.add(1, ordering: .relaxed)
        return try await base.query(sql, parameters)
    }

    public func withConnection<Result: Sendable>(_ body: @escaping @Sendable (MariaDBConnection) throws -> Result) async throws -> Result {
        counter.add(1, ordering: .relaxed)
        return try await base.withConnection(body)
    }
}
