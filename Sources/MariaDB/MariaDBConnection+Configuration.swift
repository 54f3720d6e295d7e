extension MariaDBConnection {
    /// Where and how to connect. The defaults suit a ViciDial database on the same box.
    public struct Configuration: Sendable, Hashable {
        /// How the server is reached.
        public enum Endpoint: Sendable, Hashable {
            /// TCP, even when `host` is `localhost` (libmariadb would otherwise quietly switch to
            /// its compiled-in socket path).
            case tcp(host: String, port: Int)
            /// A unix socket, e.g. `/var/run/mysqld/mysqld.sock` on a ViciDial box.
            case unixSocket(path: String)
        }

        public var endpoint: Endpoint
        public var username: String
        public var password: String
        /// The default database (`asterisk` on ViciDial); `nil` for none.
        public var database: String?
        /// How long establishing the connection (TCP connect and the server's greeting) may take.
        /// Default 5 s. Rounded up to whole seconds, as are the two below (libmariadb takes seconds;
        /// never 0, which would mean no limit).
        public var connectTimeout: Duration
        /// How long one wait for the server's answer may take, so it bounds how long a query may
        /// run on the server. Default 10 s: the bridge's queries take milliseconds, and a call
        /// waiting on a hung server holds one of the pool's few connections (and its thread) that long.
        public var readTimeout: Duration
        /// How long one write to the server may block. Default 10 s.
        public var writeTimeout: Duration
        /// How long a call waits for a connection while other calls use every one (of the
        /// ``MariaDBClient`` or ``MariaDBPool``): after it the call fails with
        /// ``MariaDBError/Code/connectionUnavailable`` instead of queueing behind a hung query.
        /// Default 30 s: a burst of ordinary queries may queue for seconds on a loaded box; a hung
        /// one holds its connection for the read timeout at most, so waiting never lasts forever.
        public var acquireTimeout: Duration

        public init(
            endpoint: Endpoint,
            username: String,
            password: String,
            database: String? = nil,
            connectTimeout: Duration = .seconds(5),
            readTimeout: Duration = .seconds(10),
            writeTimeout: Duration = .seconds(10),
            acquireTimeout: Duration = .seconds(30)
        ) {
            self.endpoint = endpoint
            self.username = username
            self.password = password
            self.database = database
            self.connectTimeout = connectTimeout
            self.readTimeout = readTimeout
            self.writeTimeout = writeTimeout
            self.acquireTimeout = acquireTimeout
        }
    }
}
