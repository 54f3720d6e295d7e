import NIOPosix
import Synchronization

/// A few ``MariaDBClient``s used in turn, so the join's lookups, the disposition poll and (later)
/// the API's queries do not wait behind each other on one connection. Each client opens its
/// connection on first use and reconnects on its own; blocking work stays on the thread pool.
public final class MariaDBPool: Sendable {
    public let clients: [MariaDBClient]
    private let next = Atomic<Int>(0)

    /// - Parameter size: connections at most; ViciDial boxes are shared, so keep it small.
    public init(configuration: MariaDBConnection.Configuration, size: Int = 4, threadPool: NIOThreadPool = .singleton) {
        precondition(size > 0, "a pool needs at least one connection")
        clients = (0..<size).map { _ in MariaDBClient(configuration: configuration, threadPool: threadPool) }
    }

    /// The client whose turn it is.
    public func client() -> MariaDBClient {
        clients[next.add(1, ordering: .relaxed).oldValue % clients.count]
    }

    public func query(_ sql: String, _ parameters: [MariaDBValue] = []) async throws -> [MariaDBRow] {
        try await client().query(sql, parameters)
    }

    public func execute(_ sql: String, _ parameters: [MariaDBValue] = []) async throws -> MariaDBExecuteResult {
        try await client().execute(sql, parameters)
    }

    /// ``MariaDBClient/withConnection(_:)`` on the client whose turn it is.
    public func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (MariaDBConnection) throws -> Result
    ) async throws -> Result {
        try await client().withConnection(body)
    }

    public func close() async throws {
        for client in clients { try await client.close() }
    }
}

extension MariaDBPool: ViciDialDatabase {}
