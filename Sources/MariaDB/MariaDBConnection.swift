import CMariaDB

/// One connection to MariaDB through libmariadb, owning its `MYSQL` handle.
///
/// Every call blocks the calling thread on network I/O (bounded by the configured timeouts), so a
/// connection must never be used on an event loop or Swift's cooperative pool: use
/// ``MariaDBClient``, which runs the calls on a thread of its own. A connection is not thread-safe
/// and is used by one thread at a time; it is closed (`mysql_close`) when released.
///
/// Statements with parameters are prepared (`mysql_stmt_*`), so values never become SQL; statements
/// without parameters take the text protocol and save the prepare round trip.
///
/// Lost connections (server restarted, connection killed, network cut) are repaired by the next
/// call: it reconnects first. A ``query(_:_:)`` that loses its connection is retried once on a new
/// one, since reading twice is harmless; an ``execute(_:_:)`` is retried only when the connection
/// was lost before the statement was sent, because a write that may have run must not run twice.
/// A timeout (``MariaDBError/Code/timedOut``) is never retried, so every call is bounded by the
/// configured timeouts: at most a reconnect (connect timeout) and one wait for the answer (read
/// timeout), or twice that when a connection lost at once is replaced.
public final class MariaDBConnection {
    public let configuration: Configuration
    private var handle: UnsafeMutablePointer<MYSQL>
    /// Set when an error showed the connection is gone; the next call reconnects first.
    private var isBroken = false
    /// Set by ``transaction(_:)``: a lost connection is then an error, never repaired by a
    /// reconnect, because the new session would run the rest of the work outside the transaction.
    var isInTransaction = false

    /// Connects at once, so a wrong address or password shows at start-up rather than on first use.
    public init(configuration: Configuration) throws(MariaDBError) {
        self.configuration = configuration
        self.handle = try Self.connect(configuration)
    }

    deinit {
        mysql_close(self.handle)
    }

    /// Runs a statement that returns rows (SELECT). Retried once on a new connection if the
    /// connection is lost.
    public func query(_ sql: String, _ parameters: [MariaDBValue] = []) throws(MariaDBError) -> [MariaDBRow] {
        try self.run(sql, parameters, retryAfterSending: true).rows
    }

    /// Runs a statement that changes data (INSERT, UPDATE, DELETE). Not retried once it may have
    /// reached the server: the caller decides whether running it twice is safe.
    public func execute(_ sql: String, _ parameters: [MariaDBValue] = []) throws(MariaDBError) -> MariaDBExecuteResult {
        try self.run(sql, parameters, retryAfterSending: false).execution
    }

    private func run(
        _ sql: String,
        _ parameters: [MariaDBValue],
        retryAfterSending: Bool
    ) throws(MariaDBError) -> StatementResult {
        var isRetry = false
        while true {
            if self.isBroken {
                guard !self.isInTransaction else {
                    throw MariaDBError(code: .serverGoneAway, message: "the connection was lost inside a transaction", query: sql)
                }
                // Replaced only once the new connection works, so a failed reconnect leaves the
                // connection broken and the next call tries again.
                let fresh = try Self.connect(self.configuration)
                mysql_close(self.handle)
                self.handle = fresh
                self.isBroken = false
            }
            var sent = false
            let started = ContinuousClock.now
            do {
                if parameters.isEmpty {
                    return try Self.runText(sql, on: self.handle, sent: &sent)
                }
                return try Self.runPrepared(sql, parameters, on: self.handle, sent: &sent)
            } catch where error.code.isConnectionLost {
                self.isBroken = true
                let limit = min(self.configuration.readTimeout, self.configuration.writeTimeout)
                if let timeout = Self.timeout(error, after: ContinuousClock.now - started, limit: limit, waitingFor: "an answer") {
                    throw timeout
                }
                guard !isRetry, !self.isInTransaction, !sent || retryAfterSending else { throw error }
                isRetry = true
            }
        }
    }

    /// What one statement returned: rows for a SELECT, counts for a write.
    struct StatementResult {
        var rows: [MariaDBRow]
        var execution: MariaDBExecuteResult
    }

    private static func connect(_ configuration: Configuration) throws(MariaDBError) -> UnsafeMutablePointer<MYSQL> {
        try MariaDBLibrary.ensureInitialised()
        guard let mysql = mysql_init(nil) else {
            throw MariaDBError(code: .init(rawValue: UInt32(CR_OUT_OF_MEMORY)), message: "mysql_init failed")
        }
        let started = ContinuousClock.now
        do throws(MariaDBError) {
            try self.applyOptions(configuration, to: mysql)
            let connected: UnsafeMutablePointer<MYSQL>?
            switch configuration.endpoint {
            case .tcp(let host, let port):
                connected = mysql_real_connect(
                    mysql, host, configuration.username, configuration.password, configuration.database,
                    UInt32(clamping: port), nil, 0
                )
            case .unixSocket(let path):
                connected = mysql_real_connect(
                    mysql, "localhost", configuration.username, configuration.password, configuration.database,
                    0, path, 0
                )
            }
            guard connected != nil else {
                let error = self.error(of: mysql, query: nil)
                throw self.timeout(error, after: ContinuousClock.now - started, limit: configuration.connectTimeout, waitingFor: "the connection")
                    ?? error
            }
            return mysql
        } catch {
            mysql_close(mysql)
            throw error
        }
    }

    private static func applyOptions(_ configuration: Configuration, to mysql: UnsafeMutablePointer<MYSQL>) throws(MariaDBError) {
        var connectTimeout = Self.wholeSeconds(configuration.connectTimeout)
        var readTimeout = Self.wholeSeconds(configuration.readTimeout)
        var writeTimeout = Self.wholeSeconds(configuration.writeTimeout)
        var transport: UInt32
        switch configuration.endpoint {
        case .tcp: transport = MYSQL_PROTOCOL_TCP.rawValue
        case .unixSocket: transport = MYSQL_PROTOCOL_SOCKET.rawValue
        }
        // A server could otherwise ask the client to upload any local file (LOAD DATA LOCAL).
        var allowLocalInfile: UInt32 = 0
        var statuses = [
            mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connectTimeout),
            mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &readTimeout),
            mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &writeTimeout),
            mysql_options(mysql, MYSQL_OPT_PROTOCOL, &transport),
            mysql_options(mysql, MYSQL_OPT_LOCAL_INFILE, &allowLocalInfile),
        ]
        // utf8mb4, not utf8 (3-byte): lead names and notes carry emoji and any script.
        statuses.append(mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4"))
        if statuses.contains(where: { $0 != 0 }) {
            throw MariaDBError(code: .init(rawValue: UInt32(CR_UNKNOWN_ERROR)), message: "mysql_options rejected an option")
        }
    }

    /// libmariadb reports a timeout as a lost connection ("Lost connection to server during
    /// query", 2013) or a failed connect, the same as a server that went away. One that came only
    /// once the whole timeout had passed was a timeout: named as such, so that logs say the server
    /// hung rather than disappeared, and so that it is not retried.
    static func timeout(_ error: MariaDBError, after elapsed: Duration, limit: Duration, waitingFor what: String) -> MariaDBError? {
        guard [.serverLost, .serverGoneAway, .hostConnectionFailed].contains(error.code) else { return nil }
        let seconds = Self.wholeSeconds(limit)
        guard elapsed >= .seconds(seconds) - .milliseconds(100) else { return nil }
        return MariaDBError(
            code: .timedOut,
            message: "no answer from the server within \(seconds) s waiting for \(what) (\(error.message))",
            sqlState: error.sqlState,
            query: error.query
        )
    }

    /// libmariadb takes whole seconds; rounding up keeps a sub-second timeout from becoming 0 (none).
    private static func wholeSeconds(_ duration: Duration) -> UInt32 {
        let (seconds, attoseconds) = duration.components
        return UInt32(clamping: max(1, seconds + (attoseconds > 0 ? 1 : 0)))
    }

    static func error(of mysql: UnsafeMutablePointer<MYSQL>, query: String?) -> MariaDBError {
        MariaDBError(
            code: .init(rawValue: amib_mysql_errno(mysql)),
            message: String(cString: mysql_error(mysql)),
            sqlState: String(cString: mysql_sqlstate(mysql)),
            query: query
        )
    }

    static func columns(of metadata: UnsafeMutablePointer<MYSQL_RES>) -> MariaDBColumns {
        let count = Int(mysql_num_fields(metadata))
        let fields = mysql_fetch_fields(metadata)
        return MariaDBColumns(names: (0..<count).map { String(cString: fields![$0].name) })
    }
}
