/// What a statement without a result set (INSERT, UPDATE, DELETE) did.
public struct MariaDBExecuteResult: Sendable, Hashable {
    /// Rows inserted, changed or deleted. For UPDATE, rows actually changed, not merely matched.
    public var affectedRows: UInt64
    /// The AUTO_INCREMENT value the statement generated (e.g. a new `vicidial_list.lead_id`), 0 if none.
    public var lastInsertID: UInt64

    public init(affectedRows: UInt64, lastInsertID: UInt64) {
        self.affectedRows = affectedRows
        self.lastInsertID = lastInsertID
    }
}
