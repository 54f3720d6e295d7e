import AMIProtocol

extension DependencyCheck {
    /// TCP connect, login (as `run` would: same auth, Events setup and filters), then one `Ping`
    /// round trip; logs off politely. A refused port, a wrong secret or a silent server fail with
    /// the client's own reason.
    static func amiServer(_ configuration: AMIClient.Configuration) -> DependencyCheck {
        DependencyCheck(name: "ami:\(configuration.name)") {
            var configuration = configuration
            // One attempt: the first login or failure is the answer.
            configuration.overflowPolicy = .dropNewest
            let events = AMIEventStream(capacity: 1000, logger: silentLogger)
            let client = AMIClient(configuration: configuration, events: events, logger: silentLogger)
            return await withTaskGroup(of: CheckOutcome?.self) { group in
                group.addTask {
                    try? await client.run()
                    return nil
                }
                group.addTask { await firstSession(client, events: events) }
                defer { group.cancelAll() }
                while let outcome = await group.next() {
                    if let outcome { return outcome }
                }
                return .failed("the client stopped without an answer")
            }
        }
    }

    private static func firstSession(_ client: AMIClient, events: AMIEventStream) async -> CheckOutcome {
        var iterator = events.makeAsyncIterator()
        while let element = await iterator.next() {
            switch element {
            case .event:
                continue
            case .disconnected(_, let reason):
                return .failed(reason.description)
            case .loggedIn(_, let banner):
                let start = ContinuousClock.now
                let outcome: CheckOutcome
                do {
                    _ = try await client.send(.ping)
                    let roundTrip = ContinuousClock.now - start
                    outcome = .passed("logged in as \(client.configuration.session.username) to \(client.configuration.host):\(client.configuration.port) (\(banner)); Ping \(roundTrip.millisecondsText)")
                } catch {
                    outcome = .failed("logged in, but Ping failed: \(error)")
                }
                // Log off and wait for the session to end, so Asterisk sees a clean goodbye.
                client.shutdown()
                while let next = await iterator.next() {
                    if case .disconnected = next { break }
                }
                return outcome
            }
        }
        return .failed("no answer")
    }
}
