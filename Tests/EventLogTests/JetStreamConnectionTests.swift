import AMITestSupport
import EventLog
import Foundation
import Logging
import Testing

/// Against a real nats-server (JetStream, temporary store, a free port on 127.0.0.1).
@Suite("JetStreamConnection", .enabled(if: NATSServerProcess.isInstalled, "nats-server is not installed"))
struct JetStreamConnectionTests {
    static func stream(_ name: String = "TEST") -> JetStreamConnection.StreamConfiguration {
        var stream = JetStreamConnection.StreamConfiguration()
        stream.name = name
        stream.subjects = ["amibridge.>"]
        stream.duplicateWindow = .seconds(120)
        return stream
    }

    static func connect(_ server: NATSServerProcess) throws -> JetStreamConnection {
        var configuration = JetStreamConnection.Configuration()
        configuration.urls = [server.url]
        configuration.requestTimeout = .seconds(2)
        return try JetStreamConnection(configuration: configuration, logger: Logger(label: "test"))
    }

    @Test("ensureStream creates the stream once, then finds it as configured")
    func ensureStream() async throws {
        let server = NATSServerProcess()
        try await server.start()
        defer { Task { await server.stop() } }
        let connection = try Self.connect(server)
        #expect(try await connection.streamInfo("TEST") == nil)
        let created = try await connection.ensureStream(Self.stream())
        #expect(created.configuration == Self.stream())
        #expect(created.messages == 0)
        let again = try await connection.ensureStream(Self.stream())
        #expect(again.configuration == Self.stream())
        #expect(connection.isConnected)
    }

    @Test("a publish is acknowledged with its sequence; the same Nats-Msg-Id again is a duplicate ack, stored once")
    func publishAndDuplicate() async throws {
        let server = NATSServerProcess()
        try await server.start()
        defer { Task { await server.stop() } }
        let connection = try Self.connect(server)
        try await connection.ensureStream(Self.stream())
        let body = Array(#"{"event":"call_complete"}"#.utf8)
        let first = try await connection.publish(subject: "amibridge.dialer1.call_complete", body: body, msgID: "id-1")
        #expect(first == .init(stream: "TEST", sequence: 1, duplicate: false))
        let second = try await connection.publish(subject: "amibridge.dialer1.call_complete", body: body, msgID: "id-2")
        #expect(second.sequence == 2 && !second.duplicate)
        let again = try await connection.publish(subject: "amibridge.dialer1.call_complete", body: body, msgID: "id-1")
        #expect(again.duplicate)
        #expect(again.sequence == 1)
        let messages = try await connection.messages(stream: "TEST")
        #expect(messages.map(\.msgID) == ["id-1", "id-2"])
        #expect(messages.first?.body == body)
        #expect(messages.first?.subject == "amibridge.dialer1.call_complete")
    }

    @Test("with the server down, a publish fails within its timeout; once it is back, the same connection publishes")
    func outage() async throws {
        let server = NATSServerProcess()
        try await server.start()
        let connection = try Self.connect(server)
        try await connection.ensureStream(Self.stream())
        await server.stop()
        let started = ContinuousClock.now
        await #expect(throws: JetStreamError.self) {
            try await connection.publish(subject: "amibridge.d.call_complete", body: [1], msgID: "x", timeout: .milliseconds(500))
        }
        #expect(ContinuousClock.now - started < .seconds(3))
        try await server.start()
        let deadline = ContinuousClock.now + .seconds(15)
        var ack: JetStreamConnection.PublishAck?
        while ack == nil, ContinuousClock.now < deadline {
            ack = try? await connection.publish(subject: "amibridge.d.call_complete", body: [1], msgID: "x", timeout: .milliseconds(500))
            if ack == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(ack?.sequence == 1)
        await server.stop()
    }

    @Test("a server that is down at start: the connection is made anyway, and connects when the server comes")
    func downAtStart() async throws {
        let server = NATSServerProcess()
        try await server.start()
        await server.stop()
        let connection = try Self.connect(server)
        #expect(!connection.isConnected)
        try await server.start()
        defer { Task { await server.stop() } }
        let deadline = ContinuousClock.now + .seconds(15)
        while !connection.isConnected, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(connection.isConnected)
        try await connection.ensureStream(Self.stream())
    }
}

@Suite("JetStreamConnection batches", .enabled(if: NATSServerProcess.isInstalled, "nats-server is not installed"))
struct JetStreamBatchTests {
    @Test("a pipelined batch: every message acknowledged in order, ids already stored as duplicates; server down: every one failed")
    func batch() async throws {
        let server = NATSServerProcess()
        try await server.start()
        let connection = try JetStreamConnectionTests.connect(server)
        try await connection.ensureStream(JetStreamConnectionTests.stream())
        let messages = (0..<500).map { JetStreamConnection.OutgoingMessage(subject: "amibridge.d.call_complete", body: Array("\($0)".utf8), msgID: "b-\($0)") }
        _ = try await connection.publish(subject: "amibridge.d.call_complete", body: [0], msgID: "b-7")
        let outcomes = connection.publishBatchBlocking(messages)
        let acks = outcomes.compactMap { try? $0.get() }
        #expect(acks.count == 500)
        #expect(acks.filter(\.duplicate).map(\.sequence) == [1])
        #expect(acks.filter { !$0.duplicate }.map(\.sequence) == Array(2...500))
        let stored = try await connection.messages(stream: "TEST")
        #expect(stored.count == 500)

        await server.stop()
        let down = connection.publishBatchBlocking(Array(messages.prefix(10)).map { var m = $0; m.msgID += "-down"; return m }, timeout: .milliseconds(500))
        #expect(down.count == 10 && down.allSatisfy { (try? $0.get()) == nil })
    }
}
