import AMITestSupport
import MariaDB
import NIOPosix
import Testing
import ViciDialTestSupport

/// The private MariaDB made to hang for one client only: a ``HangingTCPProxy`` in front of its TCP
/// port stops every byte, as a frozen server would, while other tests keep using the server.
/// Every wait must end within its bound, with an error that says which bound.
@Suite("MariaDB on a hung server")
struct MariaDBHangTests {
    /// The bridge's user over TCP through `proxy`, with short timeouts so the tests are quick.
    /// A connect timeout far above the tests' read timeouts: under a loaded CI machine MariaDB may
    /// take seconds to greet, and these tests are about hung answers, not slow greetings.
    static func configuration(
        through proxy: HangingTCPProxy, read: Duration = .seconds(2), acquire: Duration = .seconds(1), connect: Duration = .seconds(15)
    ) throws -> MariaDBConnection.Configuration {
        var configuration = try TestDatabase.tcpConfiguration()
        configuration.endpoint = .tcp(host: "127.0.0.1", port: proxy.port)
        configuration.connectTimeout = connect
        configuration.readTimeout = read
        configuration.writeTimeout = read
        configuration.acquireTimeout = acquire
        return configuration
    }

    static func target() throws -> (host: String, port: Int) {
        (try TestDatabase.variable("AMIBRIDGE_DB_HOST"), Int(try TestDatabase.variable("AMIBRIDGE_DB_PORT")) ?? 0)
    }

    @Test("a query the server never answers fails with timedOut once the read timeout has passed, not later; the next call reconnects")
    func hungQueryTimesOut() async throws {
        let (host, port) = try Self.target()
        try await HangingTCPProxy.withProxy(to: host, port: port) { proxy in
            let client = MariaDBClient(configuration: try Self.configuration(through: proxy, read: .seconds(3)))
            let before = try await client.query("SELECT CONNECTION_ID() AS id").first?.string("id")

            proxy.hang()
            let start = ContinuousClock.now
            let error = try await #require(throws: MariaDBError.self) { try await client.query("SELECT 1") }
            let elapsed = ContinuousClock.now - start
            #expect(error.code == .timedOut, "\(error)")
            #expect(error.code.isConnectionLost)
            #expect(error.message.contains("3 s"), "\(error)")
            // Bounded by the read timeout (3 s), not retried on a new connection (3 s more).
            #expect(elapsed >= .milliseconds(2900) && elapsed < .milliseconds(5500), "\(elapsed)")

            proxy.flow()
            let after = try await client.query("SELECT CONNECTION_ID() AS id").first?.string("id")
            #expect(after != nil && after != before, "a new connection after the timeout")
        }
    }

    @Test("connecting to a server that accepts but never greets fails with timedOut after the connect timeout")
    func hungConnectTimesOut() async throws {
        let (host, port) = try Self.target()
        try await HangingTCPProxy.withProxy(to: host, port: port) { proxy in
            proxy.hang()
            let client = MariaDBClient(configuration: try Self.configuration(through: proxy, connect: .seconds(3)))
            let start = ContinuousClock.now
            let error = try await #require(throws: MariaDBError.self) { try await client.query("SELECT 1") }
            let elapsed = ContinuousClock.now - start
            #expect(error.code == .timedOut, "\(error)")
            // The connect timeout (3 s), once: a retry would take 3 s more.
            #expect(elapsed >= .milliseconds(2900) && elapsed < .milliseconds(5500), "\(elapsed)")
            #expect(proxy.connectionCounts.accepted == 1)
        }
    }

    @Test("a pool whose only connection is stuck in a hung query fails the next caller within the acquire timeout")
    func boundedAcquire() async throws {
        let (host, port) = try Self.target()
        try await HangingTCPProxy.withProxy(to: host, port: port) { proxy in
            let pool = MariaDBPool(configuration: try Self.configuration(through: proxy, read: .seconds(6), acquire: .seconds(1)), size: 1)
            _ = try await pool.query("SELECT 1")

            proxy.hang()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let error = await #expect(throws: MariaDBError.self) { try await pool.query("SELECT 'stuck'") }
                    #expect(error?.code == .timedOut, "\(String(describing: error))")
                }
                try await proxy.waitUntilHoldingBack(1)

                let start = ContinuousClock.now
                let error = try await #require(throws: MariaDBError.self) { try await pool.query("SELECT 'next'") }
                let elapsed = ContinuousClock.now - start
                #expect(error.code == .connectionUnavailable, "\(error)")
                #expect(error.message.contains("busy"), "\(error)")
                // The acquire timeout (1 s), not the stuck query's read timeout (6 s).
                #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(3), "\(elapsed)")
                // Nothing of the refused call reached the server.
                #expect(proxy.connectionCounts.accepted == 1)
                try await group.waitForAll()
            }
            proxy.flow()
            // The stuck call has ended and given its connection back.
            #expect(try await pool.query("SELECT 2 AS two").first?.int("two") == 2)
        }
    }

    @Test("a task cancelled while its query hangs stops waiting at once; the connection stays taken until the query ends")
    func cancelledCallerIsNotHeld() async throws {
        let (host, port) = try Self.target()
        try await HangingTCPProxy.withProxy(to: host, port: port) { proxy in
            let client = MariaDBClient(configuration: try Self.configuration(through: proxy, read: .seconds(4), acquire: .milliseconds(500)))
            _ = try await client.query("SELECT 1")

            proxy.hang()
            let stuck = Task { try await client.query("SELECT 'stuck'") }
            try await proxy.waitUntilHoldingBack(1)
            let start = ContinuousClock.now
            stuck.cancel()
            let outcome = await stuck.result
            // Not the 4 s read timeout: at once (with room for a loaded machine).
            #expect(ContinuousClock.now - start < .seconds(2))
            #expect(throws: CancellationError.self) { try outcome.get() }

            // The hung query still holds the connection: the next call is refused after its bound.
            let error = try await #require(throws: MariaDBError.self) { try await client.query("SELECT 'next'") }
            #expect(error.code == .connectionUnavailable, "\(error)")
            proxy.flow()
        }
    }

    @Test("queries stuck on a hung server block none of NIOThreadPool.singleton's threads")
    func sharedThreadPoolStaysFree() async throws {
        let (host, port) = try Self.target()
        try await HangingTCPProxy.withProxy(to: host, port: port) { proxy in
            // More stuck connections than the shared pool has threads (2 on a 2-core machine).
            let pool = MariaDBPool(configuration: try Self.configuration(through: proxy, read: .seconds(4)), size: 4)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await pool.query("SELECT 1") } }
                try await group.waitForAll()
            }

            proxy.hang()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try? await pool.query("SELECT 'stuck'") } }
                try await proxy.waitUntilHoldingBack(4)

                let start = ContinuousClock.now
                let answers = try await withThrowingTaskGroup(of: Int.self) { probes in
                    for number in 0..<(NIOThreadPool.singleton.numberOfThreads * 2) {
                        probes.addTask { try await NIOThreadPool.singleton.runIfActive { number } }
                    }
                    return try await probes.reduce(0) { count, _ in count + 1 }
                }
                #expect(answers == NIOThreadPool.singleton.numberOfThreads * 2)
                // Not after the stuck queries' 4 s read timeout.
                #expect(ContinuousClock.now - start < .seconds(2))
                proxy.flow()
                try await group.waitForAll()
            }
        }
    }
}
