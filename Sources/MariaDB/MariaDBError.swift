/// An error reported by MariaDB: by the server (access denied, no such table...) or by libmariadb
/// on the client side (connection refused, server gone away...).
///
/// A struct with an extensible ``Code`` rather than an enum, so that handling a new MariaDB error
/// number never breaks callers' exhaustive switches.
public struct MariaDBError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The MariaDB error number: 1000-1999 and 3000+ from the server, 2000-2999 and 5000-5999
    /// from libmariadb (see `mysqld_error.h` and `errmsg.h`).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: UInt32

        public init(rawValue: UInt32) {
            self.rawValue = rawValue
        }

        /// ER_ACCESS_DENIED_ERROR: wrong user name or password.
        public static let accessDenied = Code(rawValue: 1045)
        /// ER_BAD_DB_ERROR: the database does not exist.
        public static let unknownDatabase = Code(rawValue: 1049)
        /// ER_SERVER_SHUTDOWN: the server is shutting down.
        public static let serverShutdown = Code(rawValue: 1053)
        /// ER_BAD_FIELD_ERROR: a column named in the query does not exist.
        public static let unknownColumn = Code(rawValue: 1054)
        /// ER_DUP_ENTRY: a unique key would be duplicated.
        public static let duplicateEntry = Code(rawValue: 1062)
        /// ER_PARSE_ERROR: SQL syntax error.
        public static let syntaxError = Code(rawValue: 1064)
        /// ER_TABLEACCESS_DENIED_ERROR: the user lacks a privilege on a table (the bridge's user is
        /// deliberately read-only on most ViciDial tables).
        public static let tableAccessDenied = Code(rawValue: 1142)
        /// ER_NO_SUCH_TABLE.
        public static let noSuchTable = Code(rawValue: 1146)
        /// ER_CONNECTION_KILLED: the server killed this connection (KILL, or shutdown).
        public static let connectionKilled = Code(rawValue: 1927)
        /// CR_CONNECTION_ERROR: cannot connect through the unix socket.
        public static let socketConnectionFailed = Code(rawValue: 2002)
        /// CR_CONN_HOST_ERROR: cannot connect over TCP.
        public static let hostConnectionFailed = Code(rawValue: 2003)
        /// CR_SERVER_GONE_ERROR: the connection was lost between queries.
        public static let serverGoneAway = Code(rawValue: 2006)
        /// CR_SERVER_LOST: the connection was lost during a query (also a read timeout).
        public static let serverLost = Code(rawValue: 2013)
        /// CR_PARAMS_NOT_BOUND: the number of parameter values does not match the statement's
        /// placeholders (detected by this wrapper before anything is sent).
        public static let parameterCountMismatch = Code(rawValue: 2031)

        // 9000-9099: raised by this driver, never by MariaDB, for waits it bounds itself.

        /// Every connection stayed busy for the whole ``MariaDBConnection/Configuration/acquireTimeout``:
        /// the database is slow or hung (the busy calls end at their read timeout), or the pool is
        /// too small for the load. Nothing was sent; the call may be tried again later.
        public static let connectionUnavailable = Code(rawValue: 9001)
        /// The server did not answer within the connect, read or write timeout (libmariadb says
        /// only "lost connection", 2013). The connection is dropped; the next call opens a new one.
        /// Not retried: a server that hung once would likely hang again, doubling the wait.
        public static let timedOut = Code(rawValue: 9002)

        /// Whether the connection is unusable after this error, so the next call must reconnect.
        public var isConnectionLost: Bool {
            switch self {
            case .serverGoneAway, .serverLost, .connectionKilled, .serverShutdown, .timedOut: true
            default: false
            }
        }

        public var description: String { String(self.rawValue) }
    }

    /// The MariaDB error number.
    public var code: Code
    /// The message MariaDB gave, as it gave it.
    public var message: String
    /// The five-character SQLSTATE (`HY000` when MariaDB gives none more specific).
    public var sqlState: String
    /// The statement that failed, when there was one. Statements carry `?` placeholders, never the
    /// values, so this is safe to log.
    public var query: String?

    public init(code: Code, message: String, sqlState: String = "HY000", query: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.query = query
    }

    public var description: String {
        var text = "MariaDB error \(self.code) (\(self.sqlState)): \(self.message)"
        if let query { text += " [query: \(query)]" }
        return text
    }
}
