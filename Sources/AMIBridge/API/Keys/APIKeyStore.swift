import CSQLite
import Foundation
import NIOConcurrencyHelpers

/// One row of the key store, as `keys list` shows it: never the secret, not even its hash.
struct APIKeyRecord: Sendable, Equatable {
    var id: String
    var name: String
    var createdAt: Date
    var revokedAt: Date?
}

/// The API keys, hashed, in `api_keys.sqlite3` in the state directory.
///
/// A file (not the YAML config) so `amibridge keys` can add and revoke keys while the daemon runs,
/// and each request sees a revocation at once: lookups read the file, they do not cache.
final class APIKeyStore: Sendable {
    static let fileName = "api_keys.sqlite3"

    let path: String
    private let connection: NIOLockedValueBox<SQLiteKeyConnection>

    convenience init(stateDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        try self.init(path: (stateDirectory as NSString).appendingPathComponent(Self.fileName))
    }

    init(path: String) throws {
        self.path = path
        let connection = try SQLiteKeyConnection(path: path)
        try connection.execute("""
            PRAGMA busy_timeout = 5000;
            CREATE TABLE IF NOT EXISTS api_keys (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                secret_sha256 BLOB NOT NULL,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER
            );
            """)
        // Hashes are not secrets, but key ids and names are nobody else's business either.
        try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        self.connection = NIOLockedValueBox(connection)
    }

    /// Stores a new key and returns it: the only time its secret exists outside the client.
    func create(name: String, now: Date = Date()) throws -> APIKey {
        let key = APIKey.generate()
        try connection.withLockedValue { connection in
            try connection.run(
                "INSERT INTO api_keys (id, name, secret_sha256, created_at) VALUES (?, ?, ?, ?)",
                [.text(key.id), .text(name), .blob(key.secretHash), .integer(Int64(now.timeIntervalSince1970))]
            )
        }
        return key
    }

    func list() throws -> [APIKeyRecord] {
        try connection.withLockedValue { connection in
            try connection.rows("SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY created_at, id", []) { row in
                APIKeyRecord(
                    id: row.text(0), name: row.text(1),
                    createdAt: Date(timeIntervalSince1970: TimeInterval(row.integer(2))),
                    revokedAt: row.isNull(3) ? nil : Date(timeIntervalSince1970: TimeInterval(row.integer(3)))
                )
            }
        }
    }

    /// False when no key has this id. Revoking twice keeps the first time.
    func revoke(id: String, now: Date = Date()) throws -> Bool {
        try connection.withLockedValue { connection in
            try connection.run("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", [.integer(Int64(now.timeIntervalSince1970)), .text(id)])
            return connection.changes > 0
        }
    }

    /// The key's id when `presented` is a live key; nil for unknown, wrong or revoked keys alike,
    /// so the caller cannot tell them apart.
    func authenticate(_ presented: String) throws -> String? {
        guard let key = APIKey(text: presented) else { return nil }
        let stored = try connection.withLockedValue { connection in
            try connection.rows("SELECT secret_sha256, revoked_at IS NULL FROM api_keys WHERE id = ?", [.text(key.id)]) { row in
                (hash: row.blob(0), live: row.integer(1) == 1)
            }.first
        }
        // Compare against something even for an unknown id, so timing does not reveal which ids exist.
        let matches = APIKey.constantTimeEqual(stored?.hash ?? [UInt8](repeating: 0, count: 32), key.secretHash)
        return matches && stored?.live == true ? key.id : nil
    }
}

/// The few SQLite calls the key store needs.
///
/// CRMSink's `SQLiteDatabase` does the same with more care but is internal to CRMSink; once it is
/// public this type goes and the store uses it.
private final class SQLiteKeyConnection: @unchecked Sendable { // only reached under APIKeyStore's lock
    enum Value {
        case integer(Int64)
        case text(String)
        case blob([UInt8])
    }

    struct Row {
        fileprivate let statement: OpaquePointer
        func text(_ column: Int32) -> String { sqlite3_column_text(statement, column).map { String(cString: $0) } ?? "" }
        func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
        func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
        func blob(_ column: Int32) -> [UInt8] {
            let count = Int(sqlite3_column_bytes(statement, column))
            guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return [] }
            return Array(UnsafeRawBufferPointer(start: bytes, count: count))
        }
    }

    private let handle: OpaquePointer

    init(path: String) throws {
        var handle: OpaquePointer?
        let status = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw APIKeyStoreError(message: "\(path): \(message)")
        }
        self.handle = handle
    }

    deinit { sqlite3_close_v2(handle) }

    var changes: Int { Int(sqlite3_changes(handle)) }

    func execute(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else { throw error() }
    }

    func run(_ sql: String, _ values: [Value]) throws {
        _ = try rows(sql, values) { _ in () }
    }

    func rows<T>(_ sql: String, _ values: [Value], _ read: (Row) -> T) throws -> [T] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else { throw error() }
        defer { sqlite3_finalize(statement) }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32 = switch value {
            case .integer(let integer): sqlite3_bind_int64(statement, index, integer)
            case .text(let text): amib_sqlite3_bind_text_transient(statement, index, text, -1)
            case .blob(let bytes): bytes.withUnsafeBytes { amib_sqlite3_bind_blob_transient(statement, index, $0.baseAddress, Int32($0.count)) }
            }
            guard status == SQLITE_OK else { throw error() }
        }
        var result: [T] = []
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: result.append(read(Row(statement: statement)))
            case SQLITE_DONE: return result
            default: throw error()
            }
        }
    }

    private func error() -> APIKeyStoreError {
        APIKeyStoreError(message: String(cString: sqlite3_errmsg(handle)))
    }
}

/// A key store file that cannot be opened, read or written.
struct APIKeyStoreError: Error, CustomStringConvertible {
    var message: String
    var description: String { "api key store: \(message)" }
}
