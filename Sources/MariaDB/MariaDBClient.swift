import NIOPosix
import Synchronization

/// The async way to use MariaDB: each call runs the blocking libmariadb work on a thread that
/// belongs to this client alone, never on an event loop, on Swift's cooperative pool or on a
/// shared thread pool (`NIOThreadPool.singleton`), where a query stuck on a hung server would
/// stall unrelated work such as a `/metrics` scrape.
///
/// One client holds one ``MariaDBConnection``, opened on first use and reopened after a failed
/// connect or a lost connection; calls are serialised on it (libmariadb handles are
/// single-threaded). Use a ``MariaDBPool`` for queries that must run in parallel.
///
/// Every wait is bounded. A call waits at most the configuration's
/// ``MariaDBConnection/Configuration/acquireTimeout`` for the connection while another call uses
/// it (then ``MariaDBError/Code/connectionUnavailable``), and the call itself by the connect, read
/// and write timeouts (a server that does not answer: ``MariaDBError/Code/timedOut``). A task
/// cancelled while its call runs stops waiting at once; the connection stays taken until the call
/// has really ended on its thread.
public final class MariaDBClient: Sendable {
    public let configuration: MariaDBConnection.Configuration
    /// One thread, this client's own: its connection is used by one call at a time anyway, and a
    /// call stuck on a hung server then blocks nothing but this client.
    private let thread: NIOThreadPool
    /// Touched only on `thread`, so never contended; the lock makes that safe to share. (The one
    /// `Synchronization.Mutex` left: it holds a non-Sendable connection, which NIOLockedValueBox
    /// cannot, and a single thread gives ThreadSanitizer nothing to misread; see README "Sanitizers".)
    private let connection = Mutex<MariaDBConnection?>(nil)
    /// Who may use the connection now: this client's own line, or its pool's.
    private let leases: MariaDBConnectionLeases
    private let slot: Int

    /// A client on its own, with its own thread, started here and stopped when the client is released.
    public convenience init(configuration: MariaDBConnection.Configuration) {
        self.init(configuration: configuration, leases: MariaDBConnectionLeases(slots: 1), slot: 0)
    }

    /// A client that is slot `slot` of a pool's `leases`.
    init(configuration: MariaDBConnection.Configuration, leases: MariaDBConnectionLeases, slot: Int) {
        self.configuration = configuration
        self.leases = leases
        self.slot = slot
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    deinit {
        // Work in flight holds the client, so the thread has none left; it ends on its own.
        thread.shutdownGracefully { _ in }
    }

    /// ``MariaDBConnection/query(_:_:)`` on this client's thread.
    public func query(_ sql: String, _ parameters: [MariaDBValue] = []) async throws -> [MariaDBRow] {
        try await withConnection { try $0.query(sql, parameters) }
    }

    /// ``MariaDBConnection/execute(_:_:)`` on this client's thread.
    public func execute(_ sql: String, _ parameters: [MariaDBValue] = []) async throws -> MariaDBExecuteResult {
        try await withConnection { try $0.execute(sql, parameters) }
    }

    /// Closes the connection (the next call opens a new one). Closing sends a goodbye to the
    /// server, so it too runs on this client's thread, after the calls already in line.
    public func close() async throws {
        let slot = try await leases.acquire(.slot(slot), within: configuration.acquireTimeout)
        try await runHoldingSlot(slot) { self.connection.withLock { $0 = nil } }
    }

    /// Runs `body` with this client's connection and no other call in between, on this client's
    /// thread: for statements that belong to one session, such as ``MariaDBConnection/transaction(_:)``.
    /// `body` blocks the thread while it runs, so it should only talk to the database.
    public func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (MariaDBConnection) throws -> Result
    ) async throws -> Result {
        let slot = try await leases.acquire(.slot(slot), within: configuration.acquireTimeout)
        return try await withConnection(holding: slot, body)
    }

    /// ``withConnection(_:)`` for a caller (the pool) that already holds this client's slot.
    /// The slot is released once `body` has ended on the thread.
    func withConnection<Result: Sendable>(
        holding slot: Int,
        _ body: @escaping @Sendable (MariaDBConnection) throws -> Result
    ) async throws -> Result {
        precondition(slot == self.slot, "slot \(slot) is not this client's (\(self.slot))")
        return try await runHoldingSlot(slot) {
            try self.connection.withLock { connection in
                if let connection { return try body(connection) }
                let opened = try MariaDBConnection(configuration: self.configuration)
                connection = opened
                return try body(opened)
            }
        }
    }

    /// Runs `work` on the thread and releases `slot` when it has ended (or was skipped because the
    /// caller gave up before it started). The caller stops waiting as soon as its task is cancelled.
    private func runHoldingSlot<Result: Sendable>(
        _ slot: Int,
        _ work: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        let answer = MariaDBPendingAnswer<Result>()
        let leases = self.leases
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                answer.install(continuation)
                thread.submit { state in
                    let result: Swift.Result<Result, any Error>
                    switch state {
                    case .active where !answer.isAbandoned: result = Swift.Result { try work() }
                    case .active: result = .failure(CancellationError())
                    case .cancelled:
                        result = .failure(MariaDBError(
                            code: .init(rawValue: 2000), message: "the client's thread has stopped; the call did not run"
                        ))
                    }
                    leases.release(slot)
                    answer.deliver(result)
                }
            }
        } onCancel: {
            answer.abandon()
        }
    }
}
