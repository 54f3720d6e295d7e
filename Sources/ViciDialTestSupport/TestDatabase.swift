import Foundation
import MariaDB
import ViciDial

/// The private MariaDB that scripts/test.sh starts (scripts/mariadb.sh), found through the
/// AMIBRIDGE_DB_* variables it exports. A missing variable fails the test rather than skipping
/// it: CI always sets them, so a skip would only hide a broken setup.
public enum TestDatabase {
    /// Thrown (and so failing the test) when the private MariaDB's variables are missing.
    public struct TestDatabaseNotConfigured: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name] else {
            throw TestDatabaseNotConfigured(description: """
            \(name) is not set. These tests need the private MariaDB: run scripts/test.sh, or \
            eval "$(scripts/mariadb.sh start /tmp/amibridge-db)" before swift test.
            """)
        }
        return value
    }

    /// The bridge's own least-privilege user over the unix socket.
    public static func socketConfiguration(password: String? = nil) throws -> MariaDBConnection.Configuration {
        MariaDBConnection.Configuration(
            endpoint: .unixSocket(path: try variable("AMIBRIDGE_DB_SOCKET")),
            username: try variable("AMIBRIDGE_DB_USER"),
            password: try password ?? variable("AMIBRIDGE_DB_PASSWORD"),
            database: try variable("AMIBRIDGE_DB_NAME"),
            readTimeout: .seconds(10),
            writeTimeout: .seconds(10)
        )
    }

    /// MariaDB's root over the unix socket, for what the bridge's user may not do or see. The
    /// private instance's root has no password unless AMIBRIDGE_DB_ROOT_PASSWORD says otherwise.
    public static func rootConfiguration() throws -> MariaDBConnection.Configuration {
        var configuration = try socketConfiguration(
            password: ProcessInfo.processInfo.environment["AMIBRIDGE_DB_ROOT_PASSWORD"] ?? ""
        )
        configuration.username = try variable("AMIBRIDGE_DB_ROOT_USER")
        return configuration
    }

    /// The same user over TCP on 127.0.0.1.
    public static func tcpConfiguration() throws -> MariaDBConnection.Configuration {
        var configuration = try socketConfiguration()
        guard let port = Int(try variable("AMIBRIDGE_DB_PORT")) else {
            throw TestDatabaseNotConfigured(description: "AMIBRIDGE_DB_PORT is not a number")
        }
        configuration.endpoint = .tcp(host: try variable("AMIBRIDGE_DB_HOST"), port: port)
        return configuration
    }

    /// A phone number no other test (or earlier run against the same database) uses, so tests
    /// can run in parallel and find exactly their own rows.
    public static func uniquePhoneNumber() -> String {
        "9" + String(UInt64.random(in: 1_000_000_000...9_999_999_999))
    }
}
