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
        /// How long establishing the connection (including the handshake) may take. Default 5 s.
        public var connectTimeout: Duration
        /// How long one read from the server may block. Default 30 s: it bounds every query, and
        /// a blocked query holds a thread-pool thread. Rounded up to whole seconds.
        public var readTimeout: Duration
        /// How long one write to the server may block. Default 30 s. Rounded up to whole seconds.
        public var writeTimeout: Duration

        public init(
            endpoint: Endpoint,
            username: String,
            password: String,
            database: String? = nil,
            connectTimeout: Duration = .seconds(5),
            readTimeout: Duration = .seconds(30),
            writeTimeout: Duration = .seconds(30)
        ) {
            self.endpoint = endpoint
            self.username = username
            self.password = password
            self.database = database
            self.connectTimeout = connectTimeout
            self.readTimeout = readTimeout
            self.writeTimeout = writeTimeout
        }
    }
}
