import AMIProtocol
import AMITestSupport
import ArgumentParser
import DialerSimulator
import Foundation
import Logging
import UnixSignals
import MariaDB

/// A stand-in ViciDial dialer for demos, drills and load: by default it generates live call
/// traffic (agents, calls per second, an outcome mix) shaped like the recorded Asterisk 20
/// sessions, answers Originate, CoreShowChannels, Hangup, Command and Ping like Asterisk, and,
/// given a database, writes the rows ViciDial writes (leads, vicidial_log at the answer and the
/// hangup, agent log, recordings, live agents, the disposition seconds later or never).
///
/// `--capture NAME` replays one recorded session instead (user `bridge`, secret `s3cret-AMI`);
/// `--capture none` sends no traffic and queues every Originate with a successful
/// OriginateResponse (any login accepted): a dialer for click-to-call runs such as
/// scripts/fuzz-api.sh. `--action-log` lets a run prove which actions reached "Asterisk".
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Listen like Asterisk's AMI on 127.0.0.1 and generate ViciDial call traffic (or replay a recording).",
        discussion: """
        Database (optional; rows are written only when a socket or host is given): --db-* flags, else the environment \
        SIMULATE_DB_SOCKET, SIMULATE_DB_HOST, SIMULATE_DB_PORT, SIMULATE_DB_USER, SIMULATE_DB_PASSWORD, SIMULATE_DB_NAME. \
        The user needs INSERT/UPDATE/DELETE on ViciDial's tables (with scripts/mariadb.sh: its root, no password), never \
        the bridge's read-only user. They are not the daemon's VICIDIAL_DB_* on purpose: a simulator started on a real \
        box must not write made-up calls into production tables.
        """
    )

    @Option(help: "TCP port to listen on (0 picks a free one).")
    var port: Int = 5038

    @Option(help: "Replay this recorded session from ../shared/ami-captures/asterisk-20 instead of generating traffic; none: no traffic, every Originate succeeds.")
    var capture: String?

    @Option(help: "Append every action received to this file, one JSON object per line: {\"connection\": N, \"fields\": [[name, value], ...]} (Secret and Key redacted).")
    var actionLog: String?

    @Option(help: "Agents logged in (users <agent-prefix>001..., phones SIP/<1001+n>).")
    var agents: Int = 10

    @Option(help: "New calls per second (Poisson arrivals; a call waits for a free agent).")
    var rate: Double = 0.5

    @Option(help: "Stop after this many generated calls (and their rows); default: run until Ctrl-C.")
    var calls: Int?

    @Option(help: "Stop generating after this many seconds; default: run until Ctrl-C.")
    var duration: Double?

    @Option(help: "Outcome weights: answered, customer_busy, customer_no_answer, congestion, agent_hangs_up_first, transfer, agent_busy, agent_no_answer.")
    var mix: String = OutcomeMix.default.description

    @Option(help: "Seed of the traffic (outcomes, timings, leads); default: random, printed at the start.")
    var seed: UInt64?

    @Option(help: "campaign_id of the calls (at most 8 characters).")
    var campaign: String = "SIMCAMP"

    @Option(help: "list_id of the leads the simulator makes.")
    var listID: Int = 9999

    @Option(help: "Prefix of the agents' user names (at most 17 characters).")
    var agentPrefix: String = "agent"

    @Option(help: "Phone extension of the first agent (the next ones count up): SIP/<extension>.")
    var firstExtension: Int = 1001

    @Option(help: "Seconds of talk per answered call, as MIN-MAX.")
    var talk: String = "3-12"

    @Option(help: "Seconds from a hangup to the agent's disposition, as MIN-MAX.")
    var dispoDelay: String = "2-8"

    @Option(help: "Percent of answered calls never disposed of (a closed agent browser).")
    var neverDisposePercent: Int = 10

    @Option(help: "AMI user clients log in as.")
    var username: String = "bridge"

    @Option(help: "Its secret (plain or MD5 login); default s3cret-AMI, or SIMULATE_AMI_SECRET.")
    var secret: String?

    @Option(help: "server_ip written into the rows.")
    var serverIP: String = "10.0.0.1"

    @Option(help: "Seconds between progress lines.")
    var progressInterval: Double = 10

    @Option(help: "First lead_id to give out; default: one past the largest in vicidial_list (1000000 without a database).")
    var firstLeadID: Int?

    @Option(help: "MariaDB unix socket (or SIMULATE_DB_SOCKET).")
    var dbSocket: String?
    @Option(help: "MariaDB host (or SIMULATE_DB_HOST).")
    var dbHost: String?
    @Option(help: "MariaDB port (or SIMULATE_DB_PORT; default 3306).")
    var dbPort: Int?
    @Option(help: "MariaDB user with write rights (or SIMULATE_DB_USER; default root).")
    var dbUser: String?
    @Option(help: "Its password (better: SIMULATE_DB_PASSWORD; default none).")
    var dbPassword: String?
    @Option(help: "ViciDial's database (or SIMULATE_DB_NAME; default asterisk).")
    var dbName: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port: \(port) is not a TCP port (0-65535)") }
        guard agents >= 0, agents <= 9000 else { throw ValidationError("--agents: \(agents) is not between 0 and 9000") }
        guard rate >= 0, rate.isFinite else { throw ValidationError("--rate: \(rate) is not a number of calls per second >= 0") }
        guard campaign.count <= 8, !campaign.isEmpty else { throw ValidationError("--campaign: '\(campaign)' must have 1 to 8 characters") }
        guard agentPrefix.count <= 17 else { throw ValidationError("--agent-prefix: '\(agentPrefix)' is longer than 17 characters") }
        guard (0...100).contains(neverDisposePercent) else { throw ValidationError("--never-dispose-percent: \(neverDisposePercent) is not 0-100") }
        _ = try OutcomeMix(parsing: mix)
        _ = try Self.range(talk, flag: "--talk")
        _ = try Self.range(dispoDelay, flag: "--dispo-delay")
    }

    func run() async throws {
        guard let capture else { return try await generate() }
        let behavior: FakeAMIServer.Behavior
        let description: String
        if capture == "none" {
            behavior = FakeAMIServer.queuingOriginates(reportingSuccess: true)
            description = "no traffic, every Originate queued and successful"
        } else {
            let recording = try AMICapture.load("asterisk-20", capture)
            var replay = CaptureReplay(recording, chunking: .recorded, waitForActions: false)
            replay.paced = true
            behavior = replay.behavior
            description = "replaying \(recording.name) (\(recording.note))"
        }
        let log = try actionLog.map(ActionLog.init(path:))
        try await FakeAMIServer.withServer(port: port, behavior: behavior) { server in
            FileHandle.standardOutput.write(Data("amibridge simulate: AMI on 127.0.0.1:\(server.port), \(description)\n".utf8))
            try await Self.serve(log: log) { server.receivedActions }
        }
    }

    /// Serves until interrupted (or `until` says the run is over); the action log catches up every 50 ms.
    static func serve(log: ActionLog?, until finished: @Sendable () -> Bool = { false }, actions: @Sendable () -> [[AMIMessage]]) async throws {
        defer { log?.append(actions()) }
        while !Task.isCancelled, !finished() {
            log?.append(actions())
            try await Task.sleep(for: .milliseconds(log == nil ? 250 : 50))
        }
    }

    /// The generated traffic of a simulated ViciDial box.
    private func generate() async throws {
        let environment = ProcessInfo.processInfo.environment
        let database = try databaseConfiguration(environment)
        let seed = seed ?? UInt64.random(in: 1...999_999)
        var configuration = DialerSimulator.Configuration()
        configuration.port = port
        configuration.recordsActions = actionLog != nil
        configuration.username = username
        configuration.secret = secret ?? environment["SIMULATE_AMI_SECRET"] ?? "s3cret-AMI"
        var traffic = TrafficPlanner.Configuration()
        traffic.agents = agents
        traffic.agentPrefix = agentPrefix
        traffic.firstExtension = firstExtension
        traffic.callsPerSecond = rate
        traffic.mix = try OutcomeMix(parsing: mix)
        traffic.seed = seed
        traffic.campaignID = campaign
        traffic.listID = listID
        traffic.talk = try Self.range(talk, flag: "--talk")
        traffic.dispositionDelay = try Self.range(dispoDelay, flag: "--dispo-delay")
        traffic.neverDisposedPercent = neverDisposePercent
        if let firstLeadID {
            traffic.firstLeadID = firstLeadID
        } else {
            traffic.firstLeadID = await Self.nextLeadID(database)
        }
        configuration.state.traffic = traffic
        configuration.state.serverIP = serverIP
        configuration.state.maximumCalls = calls
        configuration.state.duration = duration
        var logger = Logger(label: "amibridge.simulate")
        logger.logLevel = .notice
        let log = try actionLog.map(ActionLog.init(path:))
        let interval = progressInterval
        let (username, mix) = (configuration.username, traffic.mix)
        let (agents, rate, calls, duration, firstLead) = (agents, rate, calls, duration, traffic.firstLeadID)
        let settings = configuration
        try await DialerSimulator.withSimulator(configuration: settings, database: database, logger: logger) { simulator in
            let rows = database.map { "writing ViciDial rows as \($0.username) to \(Self.describe($0.endpoint))/\($0.database ?? "")" }
                ?? "no database (give --db-socket or SIMULATE_DB_SOCKET to write ViciDial rows)"
            Self.say("amibridge simulate: AMI on 127.0.0.1:\(simulator.port) (user \(username)), \(agents) agents, "
                + "\(rate) calls/s, mix \(mix), seed \(seed), leads from \(firstLead); \(rows)")
            let limited = calls != nil || duration != nil
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: .milliseconds(Int(max(0.5, interval) * 1000)))
                        Self.say(Self.progress(simulator))
                    }
                }
                // Ctrl-C or SIGTERM ends the run cleanly: the agents log out of vicidial_live_agents.
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { return }
                }
                group.addTask {
                    try await Self.serve(log: log, until: { limited && simulator.isFinished }) { simulator.receivedActions }
                }
                defer { group.cancelAll() }
                // The first of them to end (a signal, or a limited run done) ends the run.
                _ = try await group.next()
            }
            Self.say(Self.progress(simulator) + (limited ? " (done)" : ""))
        }
    }

    /// One readable line: calls so far by outcome, what is live, rows written.
    static func progress(_ simulator: DialerSimulator) -> String {
        let stats = simulator.statistics
        let outcomes = SimulatedOutcome.allCases.compactMap { outcome in stats.outcomes[outcome].map { "\(outcome.rawValue) \($0)" } }
        var line = "amibridge simulate: \(stats.placed) calls placed, \(stats.originates) originates"
            + (outcomes.isEmpty ? "; " : " (\(outcomes.joined(separator: ", "))); ")
            + "\(stats.liveCalls) live, \(stats.completed) ended, \(simulator.loggedInClients) clients"
        if stats.skippedNoAgent > 0 { line += ", \(stats.skippedNoAgent) skipped (no free agent)" }
        if let rows = simulator.rowCounts {
            line += "; rows: \(rows.written) written"
            if rows.failed > 0 { line += ", \(rows.failed) failed" }
            if rows.dropped > 0 { line += ", \(rows.dropped) dropped" }
        }
        return line
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// `3-12` → 3...12.
    static func range(_ text: String, flag: String) throws -> ClosedRange<Double> {
        let parts = text.split(separator: "-", maxSplits: 1).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low >= 0, low <= high, high.isFinite else {
            throw ValidationError("\(flag): '\(text)' is not MIN-MAX seconds (e.g. 3-12)")
        }
        return low...high
    }

    private func databaseConfiguration(_ environment: [String: String]) throws -> MariaDBConnection.Configuration? {
        let socket = dbSocket ?? environment["SIMULATE_DB_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let host = dbHost ?? environment["SIMULATE_DB_HOST"].flatMap { $0.isEmpty ? nil : $0 }
        let endpoint: MariaDBConnection.Configuration.Endpoint
        if let socket {
            endpoint = .unixSocket(path: socket)
        } else if let host {
            let portText = environment["SIMULATE_DB_PORT"] ?? "3306"
            guard let port = dbPort ?? Int(portText) else { throw ValidationError("SIMULATE_DB_PORT: '\(portText)' is not a port") }
            endpoint = .tcp(host: host, port: port)
        } else {
            return nil
        }
        return MariaDBConnection.Configuration(
            endpoint: endpoint,
            username: dbUser ?? environment["SIMULATE_DB_USER"] ?? "root",
            password: dbPassword ?? environment["SIMULATE_DB_PASSWORD"] ?? "",
            database: dbName ?? environment["SIMULATE_DB_NAME"] ?? "asterisk"
        )
    }

    /// One past the largest lead_id, so the simulator's explicit ids follow ViciDial's own.
    private static func nextLeadID(_ database: MariaDBConnection.Configuration?) async -> Int {
        guard let database else { return 1_000_000 }
        let client = MariaDBClient(configuration: database)
        let rows = try? await client.query("SELECT COALESCE(MAX(lead_id), 0) + 1 AS next FROM vicidial_list")
        return (try? rows?.first?.int("next")).flatMap { $0 }.map { Int($0) } ?? 1_000_000
    }

    static func describe(_ endpoint: MariaDBConnection.Configuration.Endpoint) -> String {
        switch endpoint {
        case .unixSocket(let path): path
        case .tcp(let host, let port): "\(host):\(port)"
        }
    }
}

/// The actions a simulated Asterisk received, appended to a file as JSON lines as they arrive.
final class ActionLog: @unchecked Sendable {
    private let file: FileHandle
    /// Actions already written, per connection (only `run`'s task calls `append`).
    private var written: [Int] = []

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ValidationError("--action-log: cannot create \(path)")
            }
        }
        guard let file = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("--action-log: cannot open \(path) for writing")
        }
        file.seekToEndOfFile()
        self.file = file
    }

    /// Writes the actions of `received` (every connection's, in order) not written yet.
    func append(_ received: [[AMIMessage]]) {
        var text = ""
        for (connection, actions) in received.enumerated() {
            if connection == written.count { written.append(0) }
            for action in actions.dropFirst(written[connection]) {
                text += Self.line(action, connection: connection)
            }
            written[connection] = actions.count
        }
        if !text.isEmpty { file.write(Data(text.utf8)) }
    }

    static func line(_ action: AMIMessage, connection: Int) -> String {
        let fields = action.fields.map { field in
            [field.name, ["secret", "key"].contains(field.name.lowercased()) ? "<redacted>" : field.value]
        }
        let object: [String: Any] = ["connection": connection, "fields": fields]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
