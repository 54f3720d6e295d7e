import CSQLite

/// A failed SQLite call: the result code and SQLite's own message.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// SQLite's (extended) result code, e.g. 5 `SQLITE_BUSY`, 13 `SQLITE_FULL`.
    public var code: Int32
    public var message: String

    public var description: String { "sqlite error \(self.code): \(self.message)" }
}

/// One SQLite connection, used only through prepared statements.
///
/// Not thread-safe: the owner serialises every call (``Outbox`` holds it behind a lock, which
/// also makes it the single writer of its file).
final class SQLiteDatabase {
    private let handle: OpaquePointer

    /// Opens (creating if needed) the database at `path`.
    init(path: String) throws(SQLiteError) {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw SQLiteError(code: status, message: "\(path): \(message)")
        }
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit {
        sqlite3_close_v2(self.handle)
    }

    /// Runs statements that take no parameters and return nothing of interest (pragmas, DDL).
    func execute(_ sql: String) throws(SQLiteError) {
        let status = sqlite3_exec(self.handle, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw self.error(status) }
    }

    func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v3(self.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw self.error(status) }
        return SQLiteStatement(statement: statement, database: self)
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    /// `BEGIN IMMEDIATE` takes the write lock up front, so a concurrent writer (the `outbox` command)
    /// makes this wait (busy timeout) instead of failing half-way.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try self.run(&self.begin, "BEGIN IMMEDIATE")
        do {
            let result = try body()
            try self.run(&self.commit, "COMMIT")
            return result
        } catch {
            try? self.run(&self.rollback, "ROLLBACK")
            throw error
        }
    }

    // Prepared on first use: the dispatcher runs thousands of transactions a second, and
    // `sqlite3_exec` parses its SQL every time.
    private var begin: SQLiteStatement?
    private var commit: SQLiteStatement?
    private var rollback: SQLiteStatement?

    private func run(_ statement: inout SQLiteStatement?, _ sql: String) throws(SQLiteError) {
        if statement == nil { statement = try self.prepare(sql) }
        try statement!.run()
    }

    var changes: Int { Int(sqlite3_changes64(self.handle)) }

    func error(_ status: Int32) -> SQLiteError {
        SQLiteError(code: status, message: String(cString: sqlite3_errmsg(self.handle)))
    }
}

/// A prepared statement, reused: ``reset()`` before each use, bind by 1-based index.
final class SQLiteStatement {
    private let statement: OpaquePointer
    private unowned let database: SQLiteDatabase

    fileprivate init(statement: OpaquePointer, database: SQLiteDatabase) {
        self.statement = statement
        self.database = database
    }

    deinit {
        sqlite3_finalize(self.statement)
    }

    /// Clears the previous run and binds `values` to parameters 1, 2, ...
    @discardableResult
    func reset(_ values: [SQLiteValue] = []) throws(SQLiteError) -> SQLiteStatement {
        sqlite3_reset(self.statement)
        sqlite3_clear_bindings(self.statement)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .null:
                status = sqlite3_bind_null(self.statement, index)
            case .integer(let integer):
                status = sqlite3_bind_int64(self.statement, index, integer)
            case .text(let text):
                var text = text
                status = text.withUTF8 { bytes in
                    bytes.withMemoryRebound(to: CChar.self) {
                        amib_sqlite3_bind_text_transient(self.statement, index, $0.baseAddress, Int32($0.count))
                    }
                }
            case .blob(let bytes):
                // A NULL pointer would bind SQL NULL: an empty blob needs a valid address.
                status = bytes.withUnsafeBytes { buffer in
                    amib_sqlite3_bind_blob_transient(self.statement, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count))
                }
            }
            guard status == SQLITE_OK else { throw self.database.error(status) }
        }
        return self
    }

    /// Advances to the next row; false when done.
    func step() throws(SQLiteError) -> Bool {
        let status = sqlite3_step(self.statement)
        switch status {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw self.database.error(status)
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ values: [SQLiteValue] = []) throws(SQLiteError) {
        try self.reset(values)
        while try self.step() {}
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(self.statement, column) == SQLITE_NULL }

    func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(self.statement, column) }

    func optionalInteger(_ column: Int32) -> Int64? { self.isNull(column) ? nil : self.integer(column) }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(self.statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(self.statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func optionalText(_ column: Int32) -> String? { self.isNull(column) ? nil : self.text(column) }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(self.statement, column))
        guard count > 0, let bytes = sqlite3_column_blob(self.statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }
}

/// A value bound to a statement parameter.
enum SQLiteValue {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    static func integer(_ value: Int) -> SQLiteValue { .integer(Int64(value)) }

    static func optionalText(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
}
