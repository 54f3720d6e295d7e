import AMIProtocol
import AMITestSupport
import DialerSimulator
import EventMapper
import Foundation
import MariaDB
import Testing
import ViciDial
import ViciDialTestSupport

/// The simulator with the private MariaDB (scripts/mariadb.sh): rows at the moments ViciDial
/// writes them, and the bridge's own repository (its read-only user) joins them to the calls.
@Suite struct ViciDialRowWriterTests {
    /// A simulator writing as MariaDB's root, with names and lead ids no other test uses.
    static func configuration(mix: OutcomeMix, calls: Int, talk: ClosedRange<Double>) -> DialerSimulator.Configuration {
        var configuration = DialerSimulator.Configuration.quick(agents: 2, rate: 4, mix: mix, calls: calls, talk: talk)
        configuration.state.traffic.agentPrefix = "s" + String(Int.random(in: 100_000...999_999))
        configuration.state.traffic.firstExtension = Int.random(in: 20_000...90_000)
        configuration.state.traffic.campaignID = "S" + String(Int.random(in: 1_000_000...9_999_999))
        configuration.state.traffic.firstLeadID = Int.random(in: 2_000_000_000...3_000_000_000)
        configuration.state.traffic.neverDisposedPercent = 0
        configuration.state.traffic.dispositionDelay = 1.5...1.5
        configuration.state.trafficStartsPaused = true
        return configuration
    }

    /// Polls `read` until it returns a value (rows cannot be awaited; each poll is one query).
    static func eventually<Value: Sendable>(_ what: String, within limit: Duration = .seconds(20), _ read: @escaping @Sendable () async throws -> Value?) async throws -> Value {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let value = try await read() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SimulatorError("\(what): not there within \(limit)")
    }

    /// A simulator writing to `database` and one client: `body` reads the client's events (and
    /// feeds the tracker) from the start of the traffic.
    static func withCalls(
        _ configuration: DialerSimulator.Configuration,
        database: MariaDBConnection.Configuration,
        _ body: @escaping @Sendable (DialerSimulator, SimulatorClient, inout AMIEventStream.AsyncIterator, inout CallTracker) async throws -> Void
    ) async throws {
        try await withDeadline(.seconds(90)) {
            try await DialerSimulator.withSimulator(configuration: configuration, database: database) { simulator in
                try await SimulatorClient(port: simulator.port).run { client, iterator in
                    simulator.startTraffic()
                    var tracker = CallTracker(configuration: .init(server: "sim"))
                    try await body(simulator, client, &iterator, &tracker)
                }
            }
        }
    }

    @Test("an answered call: vicidial_log appears at the answer, is updated at the hangup, gets the disposition later; the repository joins it")
    func answeredCallRows() async throws {
        let configuration = Self.configuration(mix: OutcomeMix(weights: [.answered: 1]), calls: 1, talk: 3...3)
        let root = MariaDBClient(configuration: try TestDatabase.rootConfiguration())
        let repository = try ViciDialTestDriver.repository()
        try await Self.withCalls(configuration, database: try TestDatabase.rootConfiguration()) { _, _, iterator, tracker in
            // The customer answers: the row is there while the call is still up.
            let (events, _) = try await SimulatorClient.follow(&iterator, tracker: &tracker) { _, events in
                events.contains { $0.name == "DialEnd" && $0.message["DialStatus"] == "ANSWER" && $0.message["DestChannel"]?.hasPrefix("SIP/carrier") == true }
            }
            let answer = try #require(events.last)
            let uniqueid = try #require(answer.message["DestUniqueid"])
            let log = try await Self.eventually("vicidial_log row") {
                try await root.query("SELECT status, user, end_epoch, lead_id, campaign_id FROM vicidial_log WHERE uniqueid = ?", [.string(uniqueid)]).first
            }
            #expect(try log.int("end_epoch") == nil)
            #expect(["QUEUE", "INCALL"].contains(try log.string("status") ?? ""))
            let leadID = try #require(try log.int("lead_id"))
            #expect(leadID == Int64(configuration.state.traffic.firstLeadID))
            #expect(try log.string("campaign_id") == configuration.state.traffic.campaignID)

            // The hangup: end_epoch, length, CALLER, INCALL → DISPO.
            let (_, completed) = try await SimulatorClient.follow(&iterator, tracker: &tracker) { completed, _ in completed.count == 1 }
            let call = try #require(completed.first)
            let ended = try await Self.eventually("the hangup update") {
                try await root.query("SELECT status, user, term_reason, length_in_sec FROM vicidial_log WHERE uniqueid = ? AND end_epoch IS NOT NULL",
                                     [.string(uniqueid)]).first
            }
            #expect(try ended.string("term_reason") == "CALLER")
            #expect(try ended.int("length_in_sec") == 3)
            let agent = try #require(try ended.string("user"))
            #expect(agent.hasPrefix(configuration.state.traffic.agentPrefix))
            let statusAtHangup = try #require(try ended.string("status"))

            // Seconds later the agent picks a disposition: the lead, the log row, the agent log.
            let final = try await Self.eventually("the disposition") {
                try await root.query("SELECT status FROM vicidial_log WHERE uniqueid = ? AND status NOT IN ('QUEUE', 'INCALL', 'DISPO')",
                                     [.string(uniqueid)]).first
            }
            let disposition = try #require(try final.string("status"))
            #expect(statusAtHangup == "DISPO" || statusAtHangup == disposition)
            let lead = try #require(try await root.query("SELECT status, phone_number FROM vicidial_list WHERE lead_id = ?", [.int(leadID)]).first)
            #expect(try lead.string("status") == disposition)
            #expect(try lead.string("phone_number") == call.phoneNumber)
            let agentLog = try #require(try await root.query("SELECT status, talk_sec, lead_id FROM vicidial_agent_log WHERE uniqueid = ?", [.string(uniqueid)]).first)
            #expect(try agentLog.string("status") == disposition)
            #expect(try agentLog.int("talk_sec") == 3)
            let recording = try #require(try await root.query("SELECT user, length_in_sec, lead_id FROM recording_log WHERE vicidial_id = ?", [.string(uniqueid)]).first)
            #expect(try recording.string("user") == agent)
            #expect(try recording.int("length_in_sec") == 3)
            let live = try await root.query("SELECT status FROM vicidial_live_agents WHERE user = ?", [.string(agent)])
            #expect(live.count == 1)

            // The bridge's own join (its read-only user): the call finds the row, agent, lead and campaign.
            let rows = try await repository.findCallRows(for: [call])
            let row = try #require(rows[CallKey(server: call.server, linkedid: call.linkedid)])
            #expect(row.uniqueid == uniqueid)
            #expect(row.user == agent)
            #expect(row.leadID == leadID)
            #expect(row.campaignID == configuration.state.traffic.campaignID)
            let dispositions = try await repository.dispositions(of: [row.rowID])
            #expect(dispositions[row.rowID]?.status == disposition)
            #expect(ViciDialFinalStatus.isFinal(disposition))
        }
        // The simulator has stopped: its agents logged out.
        let prefix = configuration.state.traffic.agentPrefix
        let left = try await root.query("SELECT user FROM vicidial_live_agents WHERE user LIKE ?", [.string(prefix + "%")])
        #expect(left.isEmpty)
    }

    @Test("an unanswered call: the sweep's row comes after the hangup, with the final status, found by the caller code's lead")
    func unansweredCallRow() async throws {
        let configuration = Self.configuration(mix: OutcomeMix(weights: [.customerBusy: 1]), calls: 1, talk: 1...1)
        let root = MariaDBClient(configuration: try TestDatabase.rootConfiguration())
        let repository = try ViciDialTestDriver.repository()
        try await Self.withCalls(configuration, database: try TestDatabase.rootConfiguration()) { _, _, iterator, tracker in
            let (_, completed) = try await SimulatorClient.follow(&iterator, tracker: &tracker) { completed, _ in completed.count == 1 }
            let call = try #require(completed.first)
            #expect(call.outcome == .customerBusy)
            let uniqueid = try #require(call.customerLeg?.uniqueid)
            // Not yet at the hangup: the sweep runs later.
            #expect(try await root.query("SELECT 1 FROM vicidial_log WHERE uniqueid = ?", [.string(uniqueid)]).isEmpty)
            let row = try await Self.eventually("the sweep's row") {
                try await root.query("SELECT status, length_in_sec, user FROM vicidial_log WHERE uniqueid = ?", [.string(uniqueid)]).first
            }
            #expect(try row.string("status") == "B")
            #expect(try row.int("length_in_sec") == 0)
            #expect(try row.string("user") == "VDAD")
            let joined = try await repository.findCallRows(for: [call])
            #expect(joined[CallKey(server: call.server, linkedid: call.linkedid)]?.status == "B")
        }
    }

    @Test("the database down: the stream goes on, every call completes, failed writes are counted")
    func databaseDown() async throws {
        var configuration = Self.configuration(mix: OutcomeMix(weights: [.answered: 1, .customerBusy: 1]), calls: 4, talk: 0.3...0.5)
        configuration.state.traffic.agents = 4
        let settings = configuration
        let nowhere = MariaDBConnection.Configuration(endpoint: .unixSocket(path: "/tmp/amibridge-no-such-\(UUID().uuidString.prefix(8)).sock"),
                                              username: "root", password: "", database: "asterisk", connectTimeout: .seconds(1))
        try await Self.withCalls(settings, database: nowhere) { simulator, _, iterator, tracker in
            let (_, completed) = try await SimulatorClient.follow(&iterator, tracker: &tracker) { completed, _ in completed.count == 4 }
            #expect(completed.count == 4)
            let counts = try await Self.eventually("a failed write") { simulator.rowCounts.flatMap { $0.failed > 0 ? $0 : nil } }
            #expect(counts.written == 0)
        }
    }

    @Test("Hangup of an answered call (the agent ends it): the hangup update says AGENT, the disposition still follows")
    func hangupActionRows() async throws {
        let configuration = Self.configuration(mix: OutcomeMix(weights: [.answered: 1]), calls: 1, talk: 600...600)
        let root = MariaDBClient(configuration: try TestDatabase.rootConfiguration())
        try await Self.withCalls(configuration, database: try TestDatabase.rootConfiguration()) { _, client, iterator, tracker in
            let (events, _) = try await SimulatorClient.follow(&iterator, tracker: &tracker) { _, events in
                events.filter { $0.name == "BridgeEnter" }.count == 2
            }
            let agentChannel = try #require(events.first { $0.name == "Newchannel" }?.message["Channel"])
            let uniqueid = try #require(events.last { $0.name == "Newchannel" }?.message["Uniqueid"])
            _ = try await Self.eventually("the answer's row") {
                try await root.query("SELECT 1 AS found FROM vicidial_log WHERE uniqueid = ? AND status = 'INCALL'", [.string(uniqueid)]).first
            }
            #expect(try await client.client.send(.hangup(channel: agentChannel)).isSuccess)
            let (_, completed) = try await SimulatorClient.follow(&iterator, tracker: &tracker) { completed, _ in completed.count == 1 }
            #expect(completed.first?.hungUpFirst == .agent)
            let ended = try await Self.eventually("the hangup update") {
                try await root.query("SELECT term_reason, length_in_sec FROM vicidial_log WHERE uniqueid = ? AND end_epoch IS NOT NULL", [.string(uniqueid)]).first
            }
            #expect(try ended.string("term_reason") == "AGENT")
            #expect((try ended.int("length_in_sec") ?? 600) < 60)
            let extended = try await root.query("SELECT caller_code FROM vicidial_log_extended WHERE uniqueid = ?", [.string(uniqueid)])
            #expect(try extended.first?.string("caller_code")?.hasPrefix("V") == true)
            _ = try await Self.eventually("the disposition") {
                try await root.query("SELECT status FROM vicidial_log WHERE uniqueid = ? AND status NOT IN ('QUEUE', 'INCALL', 'DISPO')", [.string(uniqueid)]).first
            }
        }
    }
}
