import AMIProtocol
import AMITestSupport
import Testing

@Suite("Several AMI servers and a consumer that falls behind")
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

    @Test("dropNewest (a client nobody reads, like check): a consumer that falls behind loses the events that do not fit, and the session goes on")
    func dropNewestKeepsReading() async throws {
        let burst = String(repeating: "Event: Newexten\r\nChannel: SIP/1001-0001\r\n\r\n", count: 50)
        let behavior = ConnectionFaultTests.asterisk { session in
            try await session.write(burst)
            try await session.write("Event: PeerStatus\r\nPeer: SIP/after-burst\r\nPeerStatus: Reachable\r\n\r\n")
        }
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            // Room for 10 events; nobody reads until the client has read past the burst.
            let events = AMIEventStream(capacity: 10)
            let client = AMIClient(
                configuration: .init(
                    name: "dialer1", host: "127.0.0.1", port: server.port,
                    session: .init(username: "bridge", secret: "s3cret-AMI"),
                    // Generous: the suite shares two cores.
                    defaultActionTimeout: .seconds(60),
                    overflowPolicy: .dropNewest
                ),
                events: events
            )
            try await withDeadline(.seconds(60)) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await client.run() }
                    // Only the login is taken from the stream; the burst piles up behind it.
                    let first = await events.nextBatch(limit: 1)
                    guard case .loggedIn = first?.first else {
                        Issue.record("expected the login first")
                        return
                    }
                    // The client kept reading: the Ping's answer, written after the burst, arrives.
                    _ = try await client.send(.ping)
                    group.cancelAll()
                }
            }
            #expect(events.droppedEvents == 41, "51 events, room for 10")
            #expect(events.queuedEvents == 10)
            #expect(client.reconnectCount == 0)
            #expect(server.connectionCount == 1)
        }
    }
}
