import AMIProtocol
import AMITestSupport
import Logging
import Testing

/// What the operator reads when the client retries: a server it never reached is not a lost
/// connection.
@Suite("AMI client retry log lines")
struct ReconnectLogTests {
    @Test("a refused connection is logged as 'cannot connect', one dropped after the login as 'lost'")
    func wording() async throws {
        let closed = try ClosedPort()
        let refused = try await Self.firstWarning(port: closed.port)
        #expect(refused == "cannot connect to AMI; retrying")

        // Logs in, then the server hangs up.
        let behavior = FakeAMIServer.asterisk(afterLogin: { _ in throw CaptureError("hanging up after the login") })
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            let dropped = try await Self.firstWarning(port: server.port)
            #expect(dropped == "AMI connection lost; reconnecting")
        }
    }

    /// Runs a client against `port` until it logs its first warning, and returns that line's message.
    static func firstWarning(port: Int) async throws -> String {
        let (warnings, continuation) = AsyncStream.makeStream(of: String.self)
        let logger = Logger(label: "test.ami") { _ in WarningStream(continuation: continuation) }
        let events = AMIEventStream()
        let client = AMIClient(
            configuration: .init(
                name: "dialer1", host: "127.0.0.1", port: port,
                session: .init(username: "bridge", secret: "s3cret-AMI", loginTimeout: .seconds(60)),
                reconnect: .init(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(50))
            ),
            events: events,
            logger: logger
        )
        return try await withDeadline(.seconds(60)) {
            try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    try await client.run()
                    return nil
                }
                group.addTask {
                    // Keeps the stream drained, so the client never waits on a full buffer.
                    for await _ in events {}
                    return nil
                }
                group.addTask { await warnings.first { _ in true } }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let message = result { return message }
                }
                return ""
            }
        }
    }
}

/// Hands the message of every warning (and worse) to a stream.
private struct WarningStream: LogHandler {
    let continuation: AsyncStream<String>.Continuation
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        if event.level >= .warning { continuation.yield(event.message.description) }
    }
}
