@testable import EventMapper
import Foundation
@testable import MariaDB
import Testing
@testable import ViciDial
import ViciDialTestSupport

/// A private MariaDB of this test alone (scripts/mariadb.sh in its own directory), really stopped
/// and started again, so the shared instance other tests use is never touched.
final class PrivateMariaDB {
    let directory: String
    private(set) var exports: [String: String] = [:]
    private static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/mariadb.sh").path

    init() throws {
        // Short: the socket path must fit in sun_path.
        directory = "/tmp/amib-outage-\(UInt32.random(in: 0...UInt32.max))"
        try start()
    }

    deinit {
        _ = try? Self.run(["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    func start() throws {
        for line in try Self.run(["start", directory]).split(separator: "\n") {
            // export AMIBRIDGE_DB_NAME=value (printf %q: these values need no unquoting)
            guard line.hasPrefix("export "), let equals = line.firstIndex(of: "=") else { continue }
            exports[String(line[line.index(line.startIndex, offsetBy: 7)..<equals])] = String(line[line.index(after: equals)...])
        }
    }

    func stop() throws { _ = try Self.run(["stop", directory]) }

    func configuration(root: Bool) throws -> MariaDBConnection.Configuration {
        let socket = try #require(exports["AMIBRIDGE_DB_SOCKET"])
        return MariaDBConnection.Configuration(
            endpoint: .unixSocket(path: socket),
            username: root ? "root" : try #require(exports["AMIBRIDGE_DB_USER"]),
            password: root ? "" : try #require(exports["AMIBRIDGE_DB_PASSWORD"]),
            database: "asterisk", connectTimeout: .seconds(2), readTimeout: .seconds(5), writeTimeout: .seconds(5)
        )
    }

    /// Runs the script with its output in a file, not a pipe: the server it starts would inherit
    /// a pipe and keep it open. posix_spawn and waitpid rather than Foundation's Process, whose
    /// waitUntilExit can miss the exit of a child whose own child lives on.
    private static func run(_ arguments: [String]) throws -> String {
        let outputPath = "/tmp/amib-outage-\(UInt32.random(in: 0...UInt32.max)).out"
        defer {
            try? FileManager.default.removeItem(atPath: outputPath)
            try? FileManager.default.removeItem(atPath: outputPath + ".err")
        }
        let argv = ["/bin/bash", "-c", #"exec "$0" "$@" </dev/null >"$OUTPUT" 2>"$OUTPUT.err""#, script] + arguments
        let environment = ProcessInfo.processInfo.environment.merging(["OUTPUT": outputPath]) { _, new in new }
            .map { "\($0.key)=\($0.value)" }
        var cArguments = argv.map { strdup($0) } + [nil]
        var cEnvironment = environment.map { strdup($0) } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, &cArguments, &cEnvironment)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        let log = (try? String(contentsOfFile: outputPath + ".err", encoding: .utf8)) ?? ""
        // WIFEXITED && WEXITSTATUS == 0
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "mariadb.sh \(arguments) failed: \(log)"])
        }
        return (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }
}

@Suite struct ViciDialOutageTests {
    @Test func aStoppedDatabaseDelaysNothingBeyondTheWaitAndEnrichmentResumesAfterARestart() async throws {
        let server = try PrivateMariaDB()
        let driver = try ViciDialTestDriver(configuration: server.configuration(root: true))
        let repository = ViciDialRepository(database: MariaDBClient(configuration: try server.configuration(root: false)))
        let enricher = CallEnricher(repository: repository, configuration: .init(retryInterval: 2, maximumWait: 20))
        let watcher = DispositionWatcher(repository: repository, configuration: .init(pollInterval: 5, maximumWait: 600))
        let t = ViciDialTestDriver.epoch()
        let campaign = ViciDialTestDriver.campaign()

        // Before the outage: one call enriched and waiting for its disposition.
        let lead = try await driver.insertLead()
        let watched = ViciDialTestDriver.uniqueid(t)
        try await driver.answerOutbound(uniqueid: watched, leadID: lead, campaign: campaign, user: "agent1", status: "INCALL", at: t)
        try await driver.hangUpOutbound(uniqueid: watched, at: t + 30)
        _ = await enricher.callCompleted(TestCalls.call(uniqueids: [watched], start: t, end: t + 30), at: Double(t + 30))
        let enriched = try #require(await enricher.poll(at: Double(t + 32)).first?.enrichedCall)
        #expect(enriched.vicidial?.status == "DISPO")
        _ = await watcher.watch(enriched, at: Double(t + 32))

        // A second call whose row exists, and a third, completed while the database is down.
        let laterUniqueid = ViciDialTestDriver.uniqueid(t + 100)
        try await driver.answerOutbound(uniqueid: laterUniqueid, leadID: lead, campaign: campaign, user: "agent1", status: "INCALL", at: t + 100)
        try await driver.hangUpOutbound(uniqueid: laterUniqueid, at: t + 130)
        try server.stop()

        let lost = TestCalls.call(uniqueids: [ViciDialTestDriver.uniqueid(t + 40)], start: t + 40, end: t + 90)
        _ = await enricher.callCompleted(lost, at: Double(t + 90))
        var results: [CallEnricher.Result] = []
        var time = Double(t + 92)
        while results.isEmpty, time <= Double(t + 200) {
            results = await enricher.poll(at: time)
            #expect(await watcher.poll(at: time).isEmpty)
            time += 2
        }
        #expect(time - 2 == Double(t + 110))
        #expect(results.map(\.outcome) == [.databaseUnavailable])
        #expect(results.first?.enrichedCall == EnrichedCall(call: lost, vicidial: nil))
        let error = try #require(await enricher.lastError as? MariaDBError)
        #expect(error.code == .socketConnectionFailed || error.code.isConnectionLost)
        #expect(await watcher.lastError != nil)
        #expect(await watcher.waitingCount == 1)

        let later = TestCalls.call(uniqueids: [laterUniqueid], start: t + 100, end: t + 130)
        _ = await enricher.callCompleted(later, at: Double(t + 130))
        #expect(await enricher.poll(at: Double(t + 132)).isEmpty)
        #expect(await enricher.waitingCount == 1)

        // Back up: the waiting call is found before its deadline, the disposition arrives.
        try server.start()
        let found = await enricher.poll(at: Double(t + 134))
        #expect(found.map(\.outcome) == [.found])
        #expect(found.first?.enrichedCall.vicidial?.uniqueid == laterUniqueid)
        #expect(await enricher.lastError == nil)
        try await driver.dispose(leadID: lead, user: "agent1", status: "CALLBK")
        // The agent log and lead were disposed; the newest log row of the lead is the later call.
        _ = try await driver.root.execute("UPDATE vicidial_log SET status = 'NI' WHERE uniqueid = ?", [.string(watched)])
        var outcomes: [DispositionQueue.Outcome] = []
        time = Double(t + 300)
        while outcomes.isEmpty, time < Double(t + 400) {
            outcomes = await watcher.poll(at: time)
            time += 5
        }
        guard case .dispositionSet(let set) = outcomes.first else { Issue.record("expected a disposition, got \(outcomes)"); return }
        #expect(set.status == "NI")
        #expect(set.call == enriched)
        #expect(await watcher.statistics.failedPolls >= 1)
    }
}
