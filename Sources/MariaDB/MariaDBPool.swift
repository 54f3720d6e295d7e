/// A few ``MariaDBClient``s, so the join's lookups, the disposition poll and the API's queries do
/// not wait behind each other on one connection. Each call gets a connection no other call is
/// using (spreading calls over all of them), or waits in line for the first one released, at most
/// ``MariaDBConnection/Configuration/acquireTimeout``: a hung database holds each connection up to
/// its read timeout, and the calls beyond them fail with ``MariaDBError/Code/connectionUnavailable``
/// instead of piling up behind it.
///
/// Each client opens its connection on first use, reconnects on its own, and runs its blocking
/// work on a thread of its own: the pool's threads (one per connection) are started here and
/// stop when the pool is released. Nothing else shares them.
public final class MariaDBPool: Sendable {
    public let configuration: MariaDBConnection.Configuration
    /// The connections, one client each. A client used directly still waits its turn with the
    /// pool's calls, but only for itself; the pool's own methods take whichever is idle.
    public let clients: [MariaDBClient]
    private let leases: MariaDBConnectionLeases

    /// - Parameters:
    ///   - size: connections (and threads) at most; ViciDial boxes are shared, so keep it small.
    ///   - clock: measures the wait for a connection.
    public init(configuration: MariaDBConnection.Configuration, size: Int = 4, clock: some Clock<Duration> = ContinuousClock()) {
        precondition(size > 0, "a pool needs at least one connection")
        self.configuration = configuration
        let leases = MariaDBConnectionLeases(slots: size, clock: clock)
        self.leases = leases
        clients = (0..<size).map { MariaDBClient(configuration: configuration, leases: leases, slot: $0) }
    }

    public func query(_ sql: String, _ parameters: [MariaDBValue] = []) async throws -> [MariaDBRow] {
        try await withConnection { try $0.query(sql, parameters) }
    }

    public func execute(_ sql: String, _ parameters: [MariaDBValue] = []) async throws -> MariaDBExecuteResult {
        try await withConnection { try $0.execute(sql, parameters) }
    }

    /// ``MariaDBClient/withConnection(_:)`` on a connection no other call is using.
    public func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (MariaDBConnection) throws -> Result
    ) async throws -> Result {
        let slot = try await leases.acquire(.anySlot, within: configuration.acquireTimeout)
        return try await clients[slot].withConnection(holding: slot, body)
    }

    /// Closes every connection (the next calls open new ones). Each waits its turn, so a
    /// connection stuck in a call fails its close after the acquire timeout; the others still close.
    public func close() async throws {
        var firstError: (any Error)?
        for client in clients {
            do { try await client.close() } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }
}
