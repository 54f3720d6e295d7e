import AMIProtocol
import CoreMetrics
import Logging
import ServiceLifecycle
import Synchronization

/// Runs a ``CallTracker`` per AMI server over the shared event stream: applies events, lets time
/// pass once a second (idle calls, late OriginateResponses), and after every login reconciles
/// with `CoreShowChannels`, so calls that ended while the connection was down are completed
/// (`reconstructed`) instead of silently missed.
public final class CallTrackingService: Service, Sendable {
    public struct Configuration: Sendable {
        public var tracker: @Sendable (String) -> CallTracker.Configuration
        public var tickInterval: Duration

        public init(tracker: @escaping @Sendable (String) -> CallTracker.Configuration = { .init(server: $0) }, tickInterval: Duration = .seconds(1)) {
            self.tracker = tracker
            self.tickInterval = tickInterval
        }
    }

    public typealias ChannelLister = @Sendable (_ server: String) async throws -> [AMIMessage]
    public typealias Output = @Sendable (CallUpdate) async -> Void

    private let events: AMIEventStream
    private let configuration: Configuration
    private let listChannels: ChannelLister
    private let now: @Sendable () -> Double
    private let output: Output
    private let logger: Logger
    private let trackers = Mutex<[String: CallTracker]>([:])
    /// When each server's connection went down, until it is logged in again.
    private let outageStarts = Mutex<[String: Double]>([:])
    /// `amibridge_ami_event_lag_seconds`: from reading an event off the socket to applying it here
    /// (the time it waited in the event stream behind others), the delay every call update adds.
    private let eventLag = Timer(label: "amibridge_ami_event_lag_seconds")

    public init(
        events: AMIEventStream,
        configuration: Configuration = .init(),
        listChannels: @escaping ChannelLister,
        now: @escaping @Sendable () -> Double,
        logger: Logger = Logger(label: "amibridge.calls"),
        output: @escaping Output
    ) {
        self.events = events
        self.configuration = configuration
        self.listChannels = listChannels
        self.now = now
        self.logger = logger
        self.output = output
    }

    /// Registers a click-to-call Originate so its call carries `callID`.
    public func originateSent(server: String, actionID: String, callID: String, channel: String) {
        let time = now()
        withTracker(server) { $0.originateSent(actionID: actionID, callID: callID, channel: channel, at: time) }
    }

    /// An Originate that was never written (the connection was down): stop waiting for it.
    public func forgetOriginate(server: String, actionID: String) {
        withTracker(server) { $0.removeOriginate(actionID) }
    }

    /// Asterisk answered a click-to-call's Originate with an error: its call fails now.
    public func originateRejected(server: String, actionID: String) async {
        let time = now()
        let updates = withTracker(server) { $0.originateRejected(actionID: actionID, at: time) }
        for update in updates { await output(update) }
    }

    /// Calls being followed on every server.
    public var liveCallCount: Int { trackers.withLock { $0.values.reduce(0) { $0 + $1.liveCallCount } } }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.configuration.tickInterval)
                        let time = self.now()
                        let updates = self.trackers.withLock { trackers in
                            trackers.keys.flatMap { trackers[$0]!.tick(now: time) }
                        }
                        for update in updates { await self.output(update) }
                    }
                }
            }
            await cancelWhenGracefulShutdown {
                for await element in self.events {
                    await self.handle(element)
                }
            }
            group.cancelAll()
        }
    }

    private func handle(_ element: AMIClientEvent) async {
        switch element {
        case .event(let event):
            eventLag.recordNanoseconds(Int64(max(0, now() - event.receivedAt) * 1e9))
            let updates = withTracker(event.server) { $0.receive(event.message, at: event.receivedAt) }
            for update in updates { await output(update) }
        case .loggedIn(let server, _):
            do {
                let channels = try await listChannels(server)
                let time = now()
                let updates = withTracker(server) { $0.reconcile(liveChannels: channels, at: time) }
                let reconstructed = updates.filter { if case .completed = $0 { return true } else { return false } }.count
                logger.info("reconciled live calls after login", metadata: [
                    "server": "\(server)", "live_channels": "\(channels.count)", "reconstructed_calls": "\(reconstructed)",
                ])
                for update in updates { await output(update) }
                if let start = outageStarts.withLock({ $0.removeValue(forKey: server) }) {
                    await output(.outage(server: server, from: start, to: time))
                }
            } catch {
                // Not fatal: the calls are still followed, and silent ones close at the idle timeout.
                logger.error("CoreShowChannels after login failed; live calls not reconciled", metadata: ["server": "\(server)", "error": "\(error)"])
            }
        case .disconnected(let server, _):
            let time = now()
            outageStarts.withLock { starts in
                if starts[server] == nil { starts[server] = time }
            }
        }
    }

    private func withTracker<Result>(_ server: String, _ body: (inout CallTracker) -> Result) -> Result {
        trackers.withLock { trackers in
            if trackers[server] == nil { trackers[server] = CallTracker(configuration: configuration.tracker(server)) }
            return body(&trackers[server]!)
        }
    }
}
