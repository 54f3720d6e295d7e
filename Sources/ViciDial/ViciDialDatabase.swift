import MariaDB
/// What the ViciDial repository needs from MariaDB: read queries with bound values, and one
/// session to itself for the lead import's transaction. A protocol so that a caller can wrap the
/// real client (to count round trips, time them, or route reads to a replica) without the
/// repository knowing.
public protocol ViciDialDatabase: Sendable {
    func query(_ sql: String, _ parameters: [MariaDBValue]) async throws -> [MariaDBRow]
    /// Runs `body` on one connection with nothing else in between (see ``MariaDBClient/withConnection(_:)``).
    func withConnection<Result: Sendable>(_ body: @escaping @Sendable (MariaDBConnection) throws -> Result) async throws -> Result
}

extension MariaDBClient: ViciDialDatabase {}
extension MariaDBPool: ViciDialDatabase {}

/// SQL text pieces that depend only on counts, never on values.
enum ViciDialSQL {
    /// `?, ?, ?` for an `IN (...)` list of `count` values (at least one: `IN ()` is a syntax
    /// error, so callers skip the query when they have no values).
    static func placeholders(_ count: Int) -> String {
        precondition(count > 0, "an IN list needs at least one value")
        return Array(repeating: "?", count: count).joined(separator: ", ")
    }
}

extension MariaDBRow {
    /// Integer columns that ViciDial may hold as text-ish values; a non-number reads as nil rather
    /// than failing the whole lookup.
    func lenientInt(_ column: String) throws -> Int64? {
        guard let text = try string(column) else { return nil }
        return Int64(text) ?? Double(text).map { Int64($0) }
    }
}
