// The simulated ViciDial box behind `amibridge simulate`, in three layers (STYLE.md):
// - Plan/: decisions. `TrafficPlanner` draws each call (agent, lead, outcome, timings) from a seed.
// - Events/ and Rows/: pure translations. `CallScriptGenerator` turns a call into the Asterisk 20
//   events the captures show; `ViciDialRowPlan` into the rows ViciDial writes, when it writes them.
// - Server/: I/O. `SimulatorState` merges every call's events and rows into one timeline (pure);
//   `DialerSimulator` streams it to every AMI client, answers actions, and hands rows to
//   `ViciDialRowWriter`, which writes them on its own without ever holding up the stream.

import AMIProtocol
import AMITestSupport
import Foundation
import Logging
import MariaDB
import NIOConcurrencyHelpers
import NIOCore

/// A simulated ViciDial dialer: an AMI server on 127.0.0.1 that streams generated call traffic
/// to every logged-in client, answers Login (plain or MD5), Ping, Events, Filter,
/// CoreShowChannels, Hangup, Command and Originate like Asterisk 20, and, with a database,
/// writes the rows ViciDial writes. The connections are ``FakeAMIServer``'s.
public final class DialerSimulator: Sendable {
    public struct Configuration: Sendable {
        public var state = SimulatorState.Configuration()
        /// 0 picks a free port (see ``port``).
        public var port = 5038
        /// The manager.conf user clients must log in as.
        public var username = "bridge"
        public var secret = "s3cret-AMI"
        /// Writes (one per tick with events) queued for one client before it is cut off as too
        /// slow: 5,000 ticks of 20 ms, so about 100 s behind.
        public var clientQueueLimit = 5_000
        /// The longest the stream waits between two looks at the timeline.
        public var tick: Duration = .milliseconds(20)
        /// Keep every action each client sent (``DialerSimulator/receivedActions``, `--action-log`);
        /// off by default, so hours of Pings and Originates do not pile up.
        public var recordsActions = false
        /// At the end, how long queued rows (the agents' logouts) may take to be written.
        public var drainTimeout: Duration = .seconds(5)

        public init() {}
    }

    public let configuration: Configuration
    /// The port it listens on.
    public let port: Int
    private let state: NIOLockedValueBox<SimulatorState>
    private let feed: EventFeed
    private let rows: ViciDialRowWriter?
    private let server: FakeAMIServer

    private init(configuration: Configuration, port: Int, state: NIOLockedValueBox<SimulatorState>, feed: EventFeed,
                 rows: ViciDialRowWriter?, server: FakeAMIServer) {
        self.configuration = configuration
        self.port = port
        self.state = state
        self.feed = feed
        self.rows = rows
        self.server = server
    }

    /// Counters so far.
    public var statistics: SimulatorState.Statistics { state.withLockedValue { $0.statistics } }
    /// Row writes done, failed and dropped (nil without a database).
    public var rowCounts: ViciDialRowWriter.Counts? { rows?.counts }
    /// Clients receiving the event stream now.
    public var loggedInClients: Int { feed.subscriberCount }
    /// Every action each connection sent (for `--action-log`), when ``Configuration/recordsActions``.
    public var receivedActions: [[AMIMessage]] { server.receivedActions }
    /// Generation is over and every call has ended.
    public var isFinished: Bool { state.withLockedValue { $0.isFinished } }

    /// Runs the simulator for the duration of `body`: listening, streaming, writing rows (when
    /// `database` is given: a user allowed to write ViciDial's tables).
    public static func withSimulator<Result: Sendable>(
        configuration: Configuration,
        database: MariaDBConnection.Configuration? = nil,
        logger: Logger = Logger(label: "amibridge.simulate"),
        _ body: @Sendable (DialerSimulator) async throws -> Result
    ) async throws -> Result {
        var stateConfiguration = configuration.state
        stateConfiguration.writesRows = database != nil
        let now = Date().timeIntervalSince1970
        let state = NIOLockedValueBox(SimulatorState(configuration: stateConfiguration, now: now))
        let feed = EventFeed(queueLimit: configuration.clientQueueLimit)
        let rows = database.map { ViciDialRowWriter(database: MariaDBClient(configuration: $0), serverIP: configuration.state.serverIP, logger: logger) }
        let context = SessionContext(configuration: configuration, state: state, feed: feed)
        return try await FakeAMIServer.withServer(port: configuration.port, recordingActions: configuration.recordsActions, behavior: context.behavior) { server in
            let simulator = DialerSimulator(configuration: configuration, port: server.port, state: state, feed: feed, rows: rows,
                                            server: server)
            return try await withThrowingTaskGroup(of: Part.self) { group in
                if let rows {
                    for write in state.withLockedValue({ $0.start(at: now) }).rows { rows.enqueue(write) }
                    group.addTask { await rows.run(); return .rows }
                }
                group.addTask { try await simulator.stream(); return .stream }
                defer { group.cancelAll() }
                let result = try await body(simulator)
                feed.finishAll()
                // Agents log out; the rows still queued are written, for a few seconds at most.
                if let rows {
                    for write in state.withLockedValue({ $0.stop() }).rows { rows.enqueue(write) }
                    rows.finish()
                    group.addTask { try? await Task.sleep(for: configuration.drainTimeout); return .deadline }
                    while let part = try await group.next(), part == .stream {}
                }
                return result
            }
        }
    }

    /// The simulator's concurrent parts, told apart when one ends.
    private enum Part: Sendable {
        case rows, stream, deadline
    }

    /// Starts the generated traffic of a simulator configured with `trafficStartsPaused`.
    public func startTraffic() {
        state.withLockedValue { $0.startTraffic(at: Date().timeIntervalSince1970) }
    }

    /// The stream: whatever is due goes to every client and the row writer, then it sleeps until
    /// the next due time or one tick (an Originate's first events wait at most that long).
    private func stream() async throws {
        let tick = Double(configuration.tick.components.attoseconds) / 1e18 + Double(configuration.tick.components.seconds)
        while !Task.isCancelled {
            let now = Date().timeIntervalSince1970
            let (output, next) = state.withLockedValue { state in (state.advance(to: now), state.nextDue) }
            feed.publish(output.text)
            if let rows { for write in output.rows { rows.enqueue(write) } }
            let wait = next.map { max(0, min($0 - Date().timeIntervalSince1970, tick)) } ?? tick
            try await Task.sleep(for: .milliseconds(Int(wait * 1000) + 1))
        }
    }
}
