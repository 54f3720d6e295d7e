import AMIProtocol
import CoreMetrics
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Stage 1 of the call pipeline: applies every AMI server's events to its ``CallTracker`` and
/// hands the resulting ``CallUpdate``s to the next stage, a batch at a time.
///
/// It never waits on I/O: no disk, no database, no AMI round trip. The only thing it may wait
/// for is room in the next stage's bounded queue (backpressure, which then reaches the AMI
/// sockets). The `CoreShowChannels` reconcile after a login (a round trip) runs beside it, and so
/// does the clock tick that closes idle calls and late OriginateResponses; both apply their
/// results to the same trackers under their lock.
public final class CallTrackingService: Service, Sendable {
    public struct Configuration: Sendable {
        public var tracker: @Sendable (String) -> CallTracker.Configuration
        public var tickInterval: Duration
        /// The most events applied before their updates are handed on.
        public var batchLimit: Int

        public init(
            tracker: @escaping @Sendable (String) -> CallTracker.Configuration = { .init(server: $0) },
            tickInterval: Duration = .seconds(1),
            batchLimit: Int = 4096
        ) {
            self.tracker = tracker
            self.tickInterval = tickInterval
            self.batchLimit = batchLimit
        }
    }

    struct State {
        var trackers: [String: CallTracker] = [:]
        /// Events of a server that logged in again, kept (in order) until its `CoreShowChannels`
        /// answer is applied: the reconcile must see the calls as they were at the login, as it
        /// did when the consumer waited for it, without making every other server wait too.
        var heldBack: [String: [AMIEvent]] = [:]
        /// The next batch's place in the order batches are handed on (``UpdateTurns``).
        var nextTurn: UInt64 = 0

        /// Taken under the lock, by the batch just made there.
        mutating func takeTurn() -> UInt64 {
            defer { nextTurn += 1 }
            return nextTurn
        }

        /// The turn of `updates`, just made here; none for an empty batch (nothing to hand on).
        mutating func turn(for updates: [CallUpdate]) -> UInt64? {
            updates.isEmpty ? nil : takeTurn()
        }
    }

    /// Events held back per server while a reconcile is pending; past this the reconcile is
    /// abandoned (its answer is ignored) and the events are applied.
    static let heldBackLimit = 200_000

    public typealias ChannelLister = @Sendable (_ server: String) async throws -> [AMIMessage]
    /// Receives each batch of updates, in order; may suspend while the next stage is full.
    public typealias Output = @Sendable ([CallUpdate]) async -> Void

    private let events: AMIEventStream
    private let configuration: Configuration
    private let listChannels: ChannelLister
    private let clock: any EpochClock
    private let output: Output
    private let logger: Logger
    /// Each server's tracker, and the events held back while its post-login reconcile is pending.
    private let state = NIOLockedValueBox(State())
    /// Keeps batches made by different tasks in the order they were made (``UpdateTurns``).
    private let turns = UpdateTurns()
    /// When each server's connection went down, until it is logged in again.
    private let outageStarts = NIOLockedValueBox<[String: Double]>([:])
    /// Reconciles to run after logins, consumed beside the event loop.
    private let logins: AsyncStream<String>
    private let loginContinuation: AsyncStream<String>.Continuation
    /// `amibridge_ami_event_lag_seconds`: from reading an event off the socket to applying it here
    /// (the time it waited in the event stream behind others), sampled once per batch.
    private let eventLag = Timer(label: "amibridge_ami_event_lag_seconds")

    public init(
        events: AMIEventStream,
        configuration: Configuration = .init(),
        listChannels: @escaping ChannelLister,
        clock: any EpochClock = SystemEpochClock(),
        logger: Logger = Logger(label: "amibridge.calls"),
        output: @escaping Output
    ) {
        self.events = events
        self.configuration = configuration
        self.listChannels = listChannels
        self.clock = clock
        self.logger = logger
        self.output = output
        // A few logins per reconnect at most; the newest matter.
        (logins, loginContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(64))
    }

    /// Registers a click-to-call Originate so its call carries `callID`.
    public func originateSent(server: String, actionID: String, callID: String, channel: String) {
        let time = clock.epochSeconds
        withTracker(server) { $0.originateSent(actionID: actionID, callID: callID, channel: channel, at: time) }
    }

    /// An Originate that was never written (the connection was down): stop waiting for it.
    public func forgetOriginate(server: String, actionID: String) {
        withTracker(server) { $0.removeOriginate(actionID) }
    }

    /// Asterisk answered a click-to-call's Originate with an error: its call fails now.
    public func originateRejected(server: String, actionID: String) async {
        let time = clock.epochSeconds
        let (updates, turn) = updatesWithTurn(server) { $0.originateRejected(actionID: actionID, at: time) }
        await handOn(updates, turn: turn)
    }

    /// Calls being followed on every server.
    public var liveCallCount: Int { state.withLockedValue { $0.trackers.values.reduce(0) { $0 + $1.liveCallCount } } }

    /// Applies events until the stream ends (graceful shutdown finishes it once the AMI clients
    /// have stopped), then stops the tick and reconcile loops. Everything applied has been handed
    /// on by then.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.tickUntilCancelled() }
            group.addTask {
                for await server in self.logins { await self.reconcile(server) }
            }
            // Graceful shutdown comes after the AMI clients have stopped (they start after this
            // service): what they read is still applied, then the stream ends.
            await withGracefulShutdownHandler {
                while let batch = await self.events.nextBatch(limit: self.configuration.batchLimit) {
                    await self.apply(batch)
                }
            } onGracefulShutdown: {
                self.events.finish()
            }
            self.loginContinuation.finish()
            group.cancelAll()
        }
    }

    /// Applies a batch of stream elements; their updates go on as one batch.
    func apply<Batch: Collection<AMIClientEvent>>(_ batch: Batch) async {
        var updates: [CallUpdate] = []
        var lagSampled = false
        let turn = state.withLockedValue { state -> UInt64? in
            var index = batch.startIndex
            while index != batch.endIndex {
                switch batch[index] {
                case .event(let event):
                    if !lagSampled {
                        lagSampled = true
                        eventLag.recordNanoseconds(Int64(max(0, clock.epochSeconds - event.receivedAt) * 1e9))
                    }
                    let server = event.server
                    if state.heldBack[server] != nil {
                        state.heldBack[server]!.append(event)
                        if state.heldBack[server]!.count > Self.heldBackLimit {
                            logger.error("CoreShowChannels answer too slow; live calls not reconciled", metadata: ["server": "\(server)"])
                            updates += applyHeldBack(server, in: &state)
                        }
                        batch.formIndex(after: &index)
                        continue
                    }
                    // A busy dialer's events come in long runs from one server: its tracker is
                    // looked up once per run, not once per event.
                    Self.tracker(server, in: &state.trackers, configuration) { tracker in
                        while index != batch.endIndex, case .event(let event) = batch[index], event.server == server {
                            updates += tracker.receive(event.message, at: event.receivedAt)
                            batch.formIndex(after: &index)
                        }
                    }
                    continue
                case .loggedIn(let server, _):
                    if state.heldBack[server] == nil { state.heldBack[server] = [] }
                    loginContinuation.yield(server)
                case .disconnected(let server, _):
                    let time = clock.epochSeconds
                    outageStarts.withLockedValue { starts in
                        if starts[server] == nil { starts[server] = time }
                    }
                }
                batch.formIndex(after: &index)
            }
            return state.turn(for: updates)
        }
        await handOn(updates, turn: turn)
    }

    /// Hands `updates` on once the batches made before them have gone (see ``UpdateTurns``).
    private func handOn(_ updates: [CallUpdate], turn: UInt64?) async {
        guard let turn else { return }
        await turns.wait(for: turn)
        if !updates.isEmpty { await output(updates) }
        turns.end(turn)
    }

    /// Applies and forgets a server's held-back events.
    private func applyHeldBack(_ server: String, in state: inout State) -> [CallUpdate] {
        guard let events = state.heldBack.removeValue(forKey: server) else { return [] }
        return Self.tracker(server, in: &state.trackers, configuration) { tracker in
            events.flatMap { tracker.receive($0.message, at: $0.receivedAt) }
        }
    }

    private func tickUntilCancelled() async {
        while !Task.isCancelled {
            do { try await clock.sleep(for: configuration.tickInterval) } catch { return }
            let time = clock.epochSeconds
            let (updates, turn) = state.withLockedValue { state -> ([CallUpdate], UInt64?) in
                let updates = state.trackers.keys.flatMap { state.trackers[$0]!.tick(now: time) }
                return (updates, state.turn(for: updates))
            }
            await handOn(updates, turn: turn)
        }
    }

    /// After a login: compares the tracked calls with what Asterisk lists as live, so calls that
    /// ended while the connection was down complete (`reconstructed`) instead of being missed.
    private func reconcile(_ server: String) async {
        let channels: [AMIMessage]
        do {
            channels = try await listChannels(server)
        } catch {
            // Not fatal: the calls are still followed, and silent ones close at the idle timeout.
            logger.error("CoreShowChannels after login failed; live calls not reconciled", metadata: ["server": "\(server)", "error": "\(error)"])
            let (updates, turn) = state.withLockedValue { state in
                let updates = applyHeldBack(server, in: &state)
                return (updates, state.turn(for: updates))
            }
            await handOn(updates, turn: turn)
            return
        }
        let time = clock.epochSeconds
        // The turn is taken even with nothing reconciled: the outage below goes in it.
        let (reconciled, afterwards, turn): ([CallUpdate], [CallUpdate], UInt64) = state.withLockedValue { state in
            guard state.heldBack[server] != nil else { return ([], [], state.takeTurn()) } // abandoned: too slow
            let reconciled = Self.tracker(server, in: &state.trackers, configuration) { $0.reconcile(liveChannels: channels, at: time) }
            return (reconciled, applyHeldBack(server, in: &state), state.takeTurn())
        }
        let reconstructed = reconciled.filter { if case .completed = $0 { return true } else { return false } }.count
        logger.info("reconciled live calls after login", metadata: [
            "server": "\(server)", "live_channels": "\(channels.count)", "reconstructed_calls": "\(reconstructed)",
        ])
        var all = reconciled
        if let start = outageStarts.withLockedValue({ $0.removeValue(forKey: server) }) {
            all.append(.outage(server: server, from: start, to: time))
        }
        await handOn(all + afterwards, turn: turn)
    }

    private func withTracker<Result: Sendable>(_ server: String, _ body: (inout CallTracker) -> Result) -> Result {
        state.withLockedValue { Self.tracker(server, in: &$0.trackers, configuration, body) }
    }

    /// Updates made by `body`, with their turn to be handed on (nil for none).
    private func updatesWithTurn(_ server: String, _ body: (inout CallTracker) -> [CallUpdate]) -> ([CallUpdate], UInt64?) {
        state.withLockedValue { state in
            let updates = Self.tracker(server, in: &state.trackers, configuration, body)
            return (updates, state.turn(for: updates))
        }
    }

    private static func tracker<Result>(
        _ server: String, in trackers: inout [String: CallTracker], _ configuration: Configuration, _ body: (inout CallTracker) -> Result
    ) -> Result {
        if trackers[server] == nil { trackers[server] = CallTracker(configuration: configuration.tracker(server)) }
        return body(&trackers[server]!)
    }
}
