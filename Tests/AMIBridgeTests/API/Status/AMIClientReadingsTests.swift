@testable import AMIBridge
import AMIProtocol
import AMITestSupport
import Foundation
import Testing

/// What the status page reads from an AMI client: events read (for events per second) and since
/// when it is, or is not, logged in.
@Suite("API status page: AMI client readings")
struct AMIClientReadingsTests {
    @Test("a client counts the events it reads and says since when it is logged in")
    func readings() async throws {
        let behavior = FakeAMIServer.asterisk { session in
            for peer in 1...3 { try await session.write("Event: PeerStatus\r\nPeer: SIP/\(peer)\r\nPeerStatus: Reachable\r\n\r\n") }
        }
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            let events = AMIEventStream()
            let client = AMIClient(
                configuration: .init(name: "pbx", host: "127.0.0.1", port: server.port, session: .init(username: "bridge", secret: "s3cret-AMI")),
                events: events
            )
            let start = client.statusWithSince
            #expect(start.status == .connecting)
            #expect(client.eventsRead == 0)
            try await Task.sleep(for: .milliseconds(20))
            try await withDeadline(.seconds(60)) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await client.run() }
                    var peers = 0
                    for await element in events {
                        if case .event(let event) = element, event.name == "PeerStatus" {
                            peers += 1
                            if peers == 3 { break }
                        }
                    }
                    let reading = StatusService.readings([client])()
                    #expect(reading.count == 1)
                    #expect(reading.first?.name == "pbx")
                    #expect(reading.first.map { if case .loggedIn = $0.status { true } else { false } } == true)
                    // Logged in after the client was made: the time moved.
                    #expect((reading.first?.since ?? 0) > start.since)
                    #expect((reading.first?.eventsRead ?? 0) >= 3)
                    group.cancelAll()
                }
            }
        }
    }
}
