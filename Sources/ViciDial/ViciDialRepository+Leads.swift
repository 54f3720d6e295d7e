import MariaDB
/// A lead import that failed in the database after validation (connection lost, disk full,
/// missing INSERT privilege...), with what stayed written.
public struct ViciDialLeadImportError: Error, Sendable, CustomStringConvertible {
    /// What MariaDB reported.
    public var underlying: any Error
    /// The lead ids that are in `vicidial_list` despite the failure, in input order: always empty
    /// on a transactional table (the import rolled back); on MyISAM, the rows of the statements
    /// that completed before the failing one, which itself may have left some of its rows.
    public var writtenLeadIDs: [Int64]
    /// Whether `vicidial_list` can roll back (InnoDB); false on MyISAM, ViciDial's default.
    public var isTransactional: Bool

    public var description: String {
        let written = isTransactional
            ? "nothing was written (rolled back)"
            : "vicidial_list cannot roll back (MyISAM): \(writtenLeadIDs.count) leads were written before the failing statement, which may have written part of its rows"
        return "lead import failed: \(underlying); \(written)"
    }
}

extension ViciDialRepository {
    /// Rows per INSERT. ViciDial's own list loader also inserts in multi-row statements; 1,000
    /// rows bind 28,000 values (MariaDB allows 65,535 per statement) and keep each statement's
    /// table lock on MyISAM short, so ViciDial's hopper, which reads `vicidial_list` all the
    /// time, never waits long.
    static let leadRowsPerStatement = 1_000

    /// Inserts one lead and returns its `lead_id` (the compatibility `add_lead`).
    public func addLead(_ lead: ViciDialNewLead) async throws -> Int64 {
        try await insertLeads([lead])[0]
    }

    /// Inserts `leads` as one batch and returns their `lead_id`s in the same order.
    ///
    /// One transaction on one connection, with a multi-row prepared INSERT per
    /// ``leadRowsPerStatement`` rows. On InnoDB the batch lands whole or not at all. Stock ViciDial
    /// keeps `vicidial_list` in MyISAM, which has no transactions: there, the only failures left
    /// after validation are the database's own (connection lost, disk full), and the thrown
    /// ``ViciDialLeadImportError`` says which leads were written anyway rather than pretending.
    ///
    /// Columns are written the way ViciDial's loaders write them: `entry_date` now,
    /// `called_since_last_reset` N, `called_count` 0, `last_local_call_time` 2008-01-01 (never
    /// called, so the hopper takes it first), `entry_list_id` 0 (no custom fields).
    ///
    /// The ids come from the statement's first id (`LAST_INSERT_ID`) stepped by
    /// `auto_increment_increment`: a multi-row INSERT with VALUES gets consecutive ids on MyISAM
    /// (table lock) and on InnoDB in every `innodb_autoinc_lock_mode`.
    ///
    /// The bridge's database user needs INSERT on `vicidial_list` (and nothing more) for this.
    public func insertLeads(_ leads: [ViciDialNewLead]) async throws -> [Int64] {
        guard !leads.isEmpty else { return [] }
        return try await database.withConnection { connection in
            try Self.insertLeads(leads, on: connection)
        }
    }

    private static func insertLeads(_ leads: [ViciDialNewLead], on connection: MariaDBConnection) throws -> [Int64] {
        let settings = try connection.query(
            """
            SELECT @@auto_increment_increment AS step,
                   (SELECT e.TRANSACTIONS FROM information_schema.TABLES t
                    JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE
                    WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = 'vicidial_list') AS transactional
            """
        ).first
        let step = try settings?.int("step") ?? 1
        let isTransactional = try settings?.string("transactional") == "YES"
        var ids: [Int64] = []
        ids.reserveCapacity(leads.count)
        do {
            try connection.transaction { connection in
                var start = leads.startIndex
                while start < leads.endIndex {
                    let chunk = leads[start..<min(start + leadRowsPerStatement, leads.endIndex)]
                    let result = try connection.execute(insertStatement(rows: chunk.count), chunk.flatMap(\.parameters))
                    let first = Int64(result.lastInsertID)
                    ids += (0..<Int64(chunk.count)).map { first + $0 * step }
                    start = chunk.endIndex
                }
            }
        } catch {
            throw ViciDialLeadImportError(underlying: error, writtenLeadIDs: isTransactional ? [] : ids, isTransactional: isTransactional)
        }
        return ids
    }

    /// The INSERT for `rows` leads: SQL text that depends only on the count.
    static func insertStatement(rows: Int) -> String {
        let columns = ViciDialNewLead.insertColumns
        let row = "(NOW(), 'N', 0, '2008-01-01 00:00:00', 0, \(ViciDialSQL.placeholders(columns.count)))"
        return """
            INSERT INTO vicidial_list (entry_date, called_since_last_reset, called_count, last_local_call_time, entry_list_id, \
            \(columns.joined(separator: ", ")))
            VALUES \(Array(repeating: row, count: rows).joined(separator: ", "))
            """
    }
}
