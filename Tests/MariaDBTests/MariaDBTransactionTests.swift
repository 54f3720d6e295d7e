import EventMapper
import MariaDB
import Testing
import ViciDial
import ViciDialTestSupport

/// `MariaDBConnection.transaction`: all or nothing on InnoDB, nothing undone on MyISAM (as on a
/// stock ViciDial), and never continued on a new session after the connection is lost.
@Suite struct MariaDBTransactionTests {
    struct Refused: Error {}

    /// A session-scoped table (root: the bridge's user may not create tables).
    func connection(engine: String) throws -> MariaDBConnection {
        let connection = try MariaDBConnection(configuration: TestDatabase.rootConfiguration())
        _ = try connection.execute("CREATE TEMPORARY TABLE tx_probe (id INT) ENGINE=\(engine)")
        return connection
    }

    func count(_ connection: MariaDBConnection) throws -> Int64? {
        try connection.query("SELECT COUNT(*) AS n FROM tx_probe").first?.int("n")
    }

    /// A transaction that inserts a row, then throws.
    func insertThenThrow(on connection: MariaDBConnection) {
        #expect(throws: Refused.self) {
            try connection.transaction { connection in
                _ = try connection.execute("INSERT INTO tx_probe VALUES (?)", [3])
                throw Refused()
            }
        }
    }

    @Test func onInnoDBACommittedBodyStaysAndAThrowingOneLeavesNothing() throws {
        let connection = try connection(engine: "InnoDB")
        let value = try connection.transaction { connection in
            _ = try connection.execute("INSERT INTO tx_probe VALUES (?), (?)", [1, 2])
            return 7
        }
        #expect(value == 7)
        #expect(try count(connection) == 2)
        insertThenThrow(on: connection)
        #expect(try count(connection) == 2)
    }

    @Test func onMyISAMARollbackKeepsTheRows() throws {
        let connection = try connection(engine: "MyISAM")
        insertThenThrow(on: connection)
        #expect(try count(connection) == 1)
    }

    @Test func aConnectionLostInsideIsAnErrorNotANewSession() throws {
        let connection = try connection(engine: "InnoDB")
        let killer = try MariaDBConnection(configuration: TestDatabase.rootConfiguration())
        let before = try #require(try connection.query("SELECT CONNECTION_ID() AS id").first?.int("id"))
        let error = try #require(throws: MariaDBError.self) {
            try connection.transaction { connection in
                _ = try connection.execute("INSERT INTO tx_probe VALUES (?)", [1])
                _ = try killer.execute("KILL CONNECTION \(before)")
                // Outside a transaction this prepared write would reconnect and run (see
                // MariaDBConnectionTests); here it would run without the first row, so it fails.
                _ = try connection.execute("INSERT INTO tx_probe VALUES (?)", [2])
            }
        }
        #expect(error.code.isConnectionLost)
        // After the transaction the connection repairs itself as usual.
        let after = try #require(try connection.query("SELECT CONNECTION_ID() AS id").first?.int("id"))
        #expect(after != before)
    }
}
