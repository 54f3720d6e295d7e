#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import NIOConcurrencyHelpers
import Synchronization

/// A persistent, logged-in connection to one Asterisk server.
///
/// `run()` connects, logs in and reconnects forever with capped exponential backoff and jitter
/// (``ReconnectBackoff``), until the service is cancelled or shut down gracefully (then it sends
/// `Logoff`). Events go to the shared ``AMIEventStream`` tagged with the server's name; when the
/// stream is full the client stops reading its socket until the consumer catches up, so no event
/// is lost (``Configuration/OverflowPolicy``). Actions go through ``send(_:actionID:timeout:)``,
/// which validates them before anything is written.
public final class AMIClient: Service, Sendable {
    public struct Configuration: Sendable {
        /// What the client does when the event stream is full.
        public enum OverflowPolicy: Sendable, Hashable, RawRepresentable {
            /// Stop reading the socket until the consumer has drained the stream (default): TCP
            /// holds Asterisk back and no event is lost. Liveness pings wait while paused.
            case backpressure
            /// Drop the events that do not fit and keep reading: for a client whose events
            /// nobody needs (a one-shot `check` that only logs in and pings).
            case dropNewest

            /// `backpressure` or `dropNewest`; `reconnect`, the former default (it reconnected
            /// and lost the events in between), is read as `backpressure` so existing
            /// configuration files keep working.
            public init?(rawValue: String) {
                switch rawValue {
                case "backpressure", "reconnect": self = .backpressure
                case "dropNewest": self = .dropNewest
                default: return nil
                }
            }

            public var rawValue: String {
                switch self {
                case .backpressure: "backpressure"
                case .dropNewest: "dropNewest"
                }
            }
        }

        /// The server's name in logs, metrics and every event (e.g. `dialer1`).
        public var name: String
        public var host: String
        public var port: Int
        public var session: AMIConnectionStateMachine.Configuration
        public var reconnect: ReconnectBackoff.Configuration
        public var limits: AMIFrameDecoder.Limits
        public var connectTimeout: Duration
        public var defaultActionTimeout: Duration
        public var overflowPolicy: OverflowPolicy

        public init(
            name: String,
            host: String,
            port: Int = 5038,
            session: AMIConnectionStateMachine.Configuration,
            reconnect: ReconnectBackoff.Configuration = .init(),
            limits: AMIFrameDecoder.Limits = .init(),
            connectTimeout: Duration = .seconds(5),
            defaultActionTimeout: Duration = .seconds(10),
            overflowPolicy: OverflowPolicy = .backpressure
        ) {
            self.name = name
            self.host = host
            self.port = port
            self.session = session
            self.reconnect = reconnect
            self.limits = limits
            self.connectTimeout = connectTimeout
            self.defaultActionTimeout = defaultActionTimeout
            self.overflowPolicy = overflowPolicy
        }
    }

    /// Where the client is, for `/readyz`, `check` and metrics.
    public enum Status: Sendable, Equatable {
        case connecting
        case loggedIn(banner: String)
        case disconnected(AMIError)
    }

    public let configuration: Configuration
    public let events: AMIEventStream
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let unitRandom: @Sendable () -> Double
    private let state = NIOLockedValueBox(SharedState())
    private let actionCounter = Atomic<Int>(0)
    private let eventCount = Atomic<Int>(0)
    private let metrics: AMIClientMetrics

    private struct SharedState {
        var channel: (any Channel)?
        var status: Status = .connecting
        var shuttingDown = false
        var reconnects = 0
        var loginFailures = 0
        /// When (seconds since 1970) the client last logged in or lost its login (its start, before the first login).
        var loggedInChangedAt = wallClockSeconds()
    }

    public init(
        configuration: Configuration,
        events: AMIEventStream,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "amibridge.ami"),
        unitRandom: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.configuration = configuration
        self.events = events
        self.eventLoopGroup = eventLoopGroup
        var logger = logger
        logger[metadataKey: "server"] = "\(configuration.name)"
        self.logger = logger
        self.unitRandom = unitRandom
        self.metrics = AMIClientMetrics(server: configuration.name)
    }

    public var status: Status { state.withLockedValue { $0.status } }
    /// Connections that ended and were retried.
    public var reconnectCount: Int { state.withLockedValue { $0.reconnects } }
    /// Logins Asterisk rejected (wrong username or secret).
    public var loginFailureCount: Int { state.withLockedValue { $0.loginFailures } }
    /// The status with the time it has held since: logged in since the login, else not logged in
    /// since the login was lost (or the client started). Reconnect attempts do not move it.
    public var statusWithSince: (status: Status, since: Double) { state.withLockedValue { ($0.status, $0.loggedInChangedAt) } }
    /// Events read since start, every session (a status page derives events per second from it).
    public var eventsRead: Int { eventCount.load(ordering: .relaxed) }

    public func run() async throws {
        var backoff = ReconnectBackoff(configuration: configuration.reconnect)
        await withGracefulShutdownHandler {
            while !Task.isCancelled, !state.withLockedValue({ $0.shuttingDown }) {
                let reason = await withTaskCancellationHandler {
                    await runSession(backoff: &backoff)
                } onCancel: {
                    self.shutdown(logoff: false)
                }
                let stopping = state.withLockedValue { $0.shuttingDown }
                if stopping || Task.isCancelled { break }
                let delay = backoff.delayAfterFailure(reason, unitRandom: unitRandom())
                if reason.code == .loginRejected {
                    logger.critical("AMI login rejected: check the username and secret; retrying slowly", metadata: [
                        "error": "\(reason)", "retry_in_ms": "\(delay.milliseconds)",
                    ])
                } else {
                    // A refused or unreachable server was never connected: "lost" would send the
                    // reader looking for a drop that did not happen.
                    let message: Logger.Message = reason.code == .connectFailed ? "cannot connect to AMI; retrying" : "AMI connection lost; reconnecting"
                    logger.warning(message, metadata: [
                        "error": "\(reason)", "retry_in_ms": "\(delay.milliseconds)",
                    ])
                }
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Stops reconnecting and ends the live connection, politely (`Logoff`) unless told not to.
    public func shutdown(logoff: Bool = true) {
        let channel = state.withLockedValue { state -> (any Channel)? in
            state.shuttingDown = true
            return state.channel
        }
        if logoff {
            channel?.pipeline.fireUserInboundEventTriggered(AMIConnectionHandler.LogoffRequest(timeout: .seconds(2)))
        } else {
            channel?.close(promise: nil)
        }
    }

    /// Sends an action and waits for its response (and its event list, for list actions).
    ///
    /// Throws ``AMIError/Code/forbiddenCharacter`` or ``AMIError/Code/invalidAction`` before
    /// anything is written, ``AMIError/Code/notConnected`` while logged out, and
    /// ``AMIError/Code/actionTimeout`` when Asterisk does not answer in time.
    public func send(_ action: AMIAction, actionID: String? = nil, timeout: Duration? = nil) async throws -> AMIResponse {
        try await submit(action, actionID: actionID, timeout: timeout).response.get()
    }

    /// Writes an action now and returns its ActionID and a future for its response, so several
    /// actions can be in flight in a known order (e.g. a burst of `Originate`s). The ActionID is
    /// what a later `OriginateResponse` event carries.
    public func submit(_ action: AMIAction, actionID: String? = nil, timeout: Duration? = nil) throws -> (actionID: String, response: EventLoopFuture<AMIResponse>) {
        let actionID = actionID ?? "amibridge-\(actionCounter.add(1, ordering: .relaxed).newValue)"
        // Validate up front: an action that would inject headers never reaches the channel.
        var scratch = ByteBuffer()
        try action.encode(actionID: actionID, into: &scratch)
        guard let channel = state.withLockedValue({ $0.channel }) else {
            throw AMIError(.notConnected, "AMI server '\(configuration.name)' is not connected")
        }
        let promise = channel.eventLoop.makePromise(of: AMIResponse.self)
        let request = AMIRequest(action: action, actionID: actionID, timeout: timeout ?? configuration.defaultActionTimeout, promise: promise)
        channel.writeAndFlush(request).whenFailure { promise.fail($0) }
        return (actionID, promise.futureResult)
    }

    /// Records how a connection attempt ended, then tells the consumer: counters are up to date
    /// by the time a consumer sees `.disconnected`.
    private func sessionEnded(_ reason: AMIError) -> AMIError {
        let retrying = state.withLockedValue { state in
            state.channel = nil
            if case .loggedIn = state.status { state.loggedInChangedAt = wallClockSeconds() }
            state.status = .disconnected(reason)
            if reason.code == .loginRejected { state.loginFailures += 1 }
            if !state.shuttingDown { state.reconnects += 1 }
            return !state.shuttingDown
        }
        metrics.sessionEnded(reason, retrying: retrying)
        events.yield(.disconnected(server: configuration.name, reason: reason))
        return reason
    }

    /// One connection from connect to close; returns why it ended.
    private func runSession(backoff: inout ReconnectBackoff) async -> AMIError {
        state.withLockedValue { $0.status = .connecting }
        let eventLoop = eventLoopGroup.next()
        let loggedIn = eventLoop.makePromise(of: String.self)
        let closed = eventLoop.makePromise(of: AMIError.self)
        let name = configuration.name
        let events = self.events
        let sessionConfiguration = configuration.session
        let pausesWhenFull = configuration.overflowPolicy == .backpressure
        let logger = self.logger
        let limits = configuration.limits
        let metrics = self.metrics

        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // The stream calls `resume` from the consumer's task; the handler runs it
                        // on its event loop.
                        let source = events.makeSource { [channel] in
                            channel.pipeline.fireUserInboundEventTriggered(AMIConnectionHandler.ResumeReading())
                        }
                        let eventCounters = metrics.eventCounters()
                        let handler = AMIConnectionHandler(
                            configuration: sessionConfiguration,
                            limits: limits,
                            loggedIn: loggedIn,
                            closed: closed,
                            logger: logger,
                            clock: wallClockSeconds,
                            loginSink: { banner in
                                // On the event loop, so `.loggedIn` precedes the session's events.
                                self.state.withLockedValue {
                                    $0.status = .loggedIn(banner: banner)
                                    $0.loggedInChangedAt = wallClockSeconds()
                                }
                                metrics.loggedIn()
                                events.yield(.loggedIn(server: name, banner: banner))
                            },
                            pauseSink: { metrics.readPaused() },
                            readCompleteSink: { events.flush() },
                            stillPausedSink: { pausesWhenFull && events.isPaused(source) }
                        ) { message, receivedAt in
                            eventCounters.count(message)
                            self.eventCount.wrappingAdd(1, ordering: .relaxed)
                            let event = AMIClientEvent.event(AMIEvent(server: name, message: message, receivedAt: receivedAt))
                            guard pausesWhenFull else {
                                events.yield(event)
                                return .more
                            }
                            return events.yield(event, from: source)
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            let reason = AMIError(.connectFailed, "cannot connect to \(configuration.host):\(configuration.port)", detail: "\(error)")
            loggedIn.fail(reason)
            closed.succeed(reason)
            return sessionEnded(reason)
        }

        let shuttingDown = state.withLockedValue { state in
            state.channel = channel
            return state.shuttingDown
        }
        if shuttingDown { channel.close(promise: nil) }

        do {
            let banner = try await loggedIn.futureResult.get()
            backoff.loggedIn()
            logger.info("AMI logged in", metadata: ["banner": "\(banner)"])
            return sessionEnded((try? await closed.futureResult.get()) ?? AMIError(.connectionClosed, "closed"))
        } catch {
            return sessionEnded((error as? AMIError) ?? AMIError(.connectionClosed, "\(error)"))
        }
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

/// Seconds since 1970 from the system clock, without Foundation.
func wallClockSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}
