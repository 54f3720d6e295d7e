import AMIProtocol
import AMITestSupport
import DialerSimulator
import EventMapper

/// An AMI client (the product's own) logged in to a simulator, with its events read in order.
final class SimulatorClient: Sendable {
    let client: AMIClient
    let events: AMIEventStream

    init(port: Int, authentication: AMIConnectionStateMachine.Configuration.Authentication = .plain, secret: String = "s3cret-AMI") {
        events = AMIEventStream()
        client = AMIClient(
            configuration: .init(name: "sim", host: "127.0.0.1", port: port,
                                 session: .init(username: "bridge", secret: secret, authentication: authentication),
                                 defaultActionTimeout: .seconds(30)),
            events: events
        )
    }

    /// Runs the client for the duration of `body`, which starts once it is logged in.
    func run<Result: Sendable>(_ body: @escaping @Sendable (SimulatorClient, inout AMIEventStream.AsyncIterator) async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await self.client.run(); return nil }
            group.addTask {
                var iterator = self.events.makeAsyncIterator()
                while let element = await iterator.next() {
                    if case .loggedIn = element { break }
                }
                return try await body(self, &iterator)
            }
            defer {
                client.shutdown(logoff: false)
                group.cancelAll()
            }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw SimulatorError("the client stopped before the test was done")
        }
    }

    /// The next AMI event (nil when the stream ends).
    static func nextEvent(_ iterator: inout AMIEventStream.AsyncIterator) async -> AMIEvent? {
        while let element = await iterator.next() {
            if case .event(let event) = element { return event }
        }
        return nil
    }

    /// Feeds events to `tracker` until `done` says so; returns every event read and the completed calls.
    static func follow(_ iterator: inout AMIEventStream.AsyncIterator, tracker: inout CallTracker,
                       until done: ([CallRecord], [AMIEvent]) -> Bool) async throws -> (events: [AMIEvent], completed: [CallRecord]) {
        var events: [AMIEvent] = []
        var completed: [CallRecord] = []
        while !done(completed, events) {
            guard let event = await nextEvent(&iterator) else { throw SimulatorError("the event stream ended") }
            events.append(event)
            for update in tracker.receive(event.message, at: event.receivedAt) {
                if case .completed(let record) = update { completed.append(record) }
            }
        }
        return (events, completed)
    }
}

extension DialerSimulator.Configuration {
    /// Quick calls on loopback: a port of its own, calls lasting a second or two.
    static func quick(agents: Int, rate: Double, mix: OutcomeMix, calls: Int? = nil, talk: ClosedRange<Double> = 0.3...0.8) -> Self {
        var configuration = DialerSimulator.Configuration()
        configuration.port = 0
        configuration.state.traffic.agents = agents
        configuration.state.traffic.callsPerSecond = rate
        configuration.state.traffic.mix = mix
        configuration.state.traffic.seed = 11
        configuration.state.traffic.agentRing = 0.05...0.2
        configuration.state.traffic.customerRing = 0.1...0.3
        configuration.state.traffic.dialTimeout = 0.5
        configuration.state.traffic.originateTimeout = 0.5
        configuration.state.traffic.talk = talk
        configuration.state.traffic.dispositionDelay = 0.2...0.5
        configuration.state.maximumCalls = calls
        return configuration
    }
}
