import AMIProtocol
import AMITestSupport
import Testing

@Suite("Several AMI servers and a slow consumer")
struct MultiServerTests {
    static func announcing(_ peer: String) -> FakeAMIServer.Behavior {
        ConnectionFaultTests.asterisk { session in
            try await session.write("Event: PeerStatus\r\nPeer: \(peer)\r\nPeerStatus: Reachable\r\n\r\n")
        }
    }

    @Test("two dialers feed one stream; every event carries its server's name")
    func twoServers() async throws {
        try await FakeAMIServer.withServer(behavior: Self.announcing("SIP/dialer1-peer")) { first in
            try await FakeAMIServer.withServer(behavior: Self.announcing("SIP/dialer2-peer")) { second in
                let events = AMIEventStream()
                let clients = [
                    AMIClient(configuration: .init(name: "dialer1", host: "127.0.0.1", port: first.port, session: .init(username: "bridge", secret: "s3cret-AMI")), events: events),
                    AMIClient(configuration: .init(name: "dialer2", host: "127.0.0.1", port: second.port, session: .init(username: "bridge", secret: "s3cret-AMI")), events: events),
                ]
                let peers = try await withThrowingTaskGroup(of: [String: String]?.self) { group in
                    for client in clients { group.addTask { try await client.run(); return nil } }
                    group.addTask {
                        var peers: [String: String] = [:]
                        for await element in events {
                            if case .event(let event) = element, event.name == "PeerStatus" {
                                peers[event.server] = event.message["Peer"]
                                if peers.count == 2 { break }
                            }
                        }
                        return peers
                    }
                    defer { group.cancelAll() }
                    while let result = try await group.next() {
                        if let peers = result { return peers }
                    }
                    return [:]
                }
                #expect(peers == ["dialer1": "SIP/dialer1-peer", "dialer2": "SIP/dialer2-peer"])
            }
        }
    }

    @Test("a consumer that falls behind: drops are counted, and the reconnect policy re-syncs the session")
    func overflowReconnects() async throws {
        let burst = String(repeating: "Event: Newexten\r\nChannel: SIP/1001-0001\r\n\r\n", count: 50)
        let behavior = ConnectionFaultTests.asterisk { session in
            if session.index == 0 { try await session.write(burst) }
        }
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            // Room for 10 events; nobody reads until the burst has overflowed it.
            let events = AMIEventStream(capacity: 10)
            let client = AMIClient(
                configuration: .init(
                    name: "dialer1", host: "127.0.0.1", port: server.port,
                    session: .init(username: "bridge", secret: "s3cret-AMI"),
                    reconnect: .init(initialDelay: .milliseconds(10))
                ),
                events: events
            )
            let history = try await withThrowingTaskGroup(of: [AMIClientEvent]?.self) { group in
                group.addTask { try await client.run(); return nil }
                group.addTask {
                    // Wait for the second connection without draining the stream.
                    while server.connectionCount < 2 { await Task.yield() }
                    var history: [AMIClientEvent] = []
                    for await element in events {
                        history.append(element)
                        if history.filter({ if case .loggedIn = $0 { return true } else { return false } }).count == 2 { break }
                    }
                    return history
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let history = result { return history }
                }
                return []
            }
            #expect(events.droppedEvents > 0)
            let reasons = ConnectionFaultTests.disconnects(history)
            #expect(reasons.first?.code == .eventBufferOverflow)
            // What was queued before the overflow is kept, in order.
            #expect(ConnectionFaultTests.eventNames(history).prefix(10).allSatisfy { $0 == "Newexten" })
        }
    }
}
