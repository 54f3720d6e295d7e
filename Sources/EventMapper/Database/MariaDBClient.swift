import NIOPosix
import Synchronization

/// The async way to use MariaDB: each call runs the blocking libmariadb work on a `NIOThreadPool`
/// thread, never on an event loop or Swift's cooperative pool, where a slow query would stall
/// unrelated work.
///
/// One client holds one ``MariaDBConnection``, opened on first use and reopened after a failed
/// connect; calls are serialised on it (libmariadb handles are single-threaded). Use several
/// clients for queries that must run in parallel.
public final class MariaDBClient: Sendable {
    public let configuration: MariaDBConnection.Configuration
    private let threadPool: NIOThreadPool
    private let connection = Mutex<MariaDBConnection?>(nil)

    /// - Parameters:
    ///   - threadPool: where blocking calls run; it must be started. Each call in flight occupies
    ///     one of its threads for up to the configured read timeout.
    public init(configuration: MariaDBConnection.Configuration, threadPool: NIOThreadPool = .singleton) {
        self.configuration = configuration
        self.threadPool = threadPool
    }

    /// ``MariaDBConnection/query(_:_:)`` on the thread pool.
    public func query(_ sql: String, _ parameters: [MariaDBValue] = []) async throws -> [MariaDBRow] {
        try await self.withConnection { try $0.query(sql, parameters) }
    }

    /// ``MariaDBConnection/execute(_:_:)`` on the thread pool.
    public func execute(_ sql: String, _ parameters: [MariaDBValue] = []) async throws -> MariaDBExecuteResult {
        try await self.withConnection { try $0.execute(sql, parameters) }
    }

    /// Closes the connection (the next call opens a new one). Closing sends a goodbye to the
    /// server, so it too runs on the thread pool.
    public func close() async throws {
        try await self.threadPool.runIfActive {
            self.connection.withLock { $0 = nil }
        }
    }

    /// Runs `body` with this client's connection and no other call in between, on the thread pool:
    /// for statements that belong to one session, such as ``MariaDBConnection/transaction(_:)``.
    /// `body` blocks a pool thread while it runs, so it should only talk to the database.
    public func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (MariaDBConnection) throws -> Result
    ) async throws -> Result {
        try await self.threadPool.runIfActive {
            try self.connection.withLock { connection in
                if let connection { return try body(connection) }
                let opened = try MariaDBConnection(configuration: self.configuration)
                connection = opened
                return try body(opened)
            }
        }
    }
}
