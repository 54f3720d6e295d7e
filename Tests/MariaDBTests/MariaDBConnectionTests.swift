import EventMapper
import MariaDB
import Testing
import ViciDial
import ViciDialTestSupport

@Suite struct MariaDBConnectionTests {
    @Test func connectsOverTheUnixSocketAndOverTCP() throws {
        let overSocket = try MariaDBConnection(configuration: TestDatabase.socketConfiguration())
        let overTCP = try MariaDBConnection(configuration: TestDatabase.tcpConfiguration())
        let sql = "SELECT CURRENT_USER() AS who, DATABASE() AS db"

        // The server names the account it matched by host, which shows the transport really used.
        let socketRow = try #require(try overSocket.query(sql).first)
        #expect(try socketRow.string("who") == "amibridge@localhost")
        #expect(try socketRow.string("db") == "asterisk")
        let tcpRow = try #require(try overTCP.query(sql).first)
        #expect(try tcpRow.string("who") == "amibridge@127.0.0.1")
    }

    @Test func hostileValuesRoundTripUnchangedThroughPreparedStatements() throws {
        let connection = try MariaDBConnection(configuration: TestDatabase.socketConfiguration())
        let phone = TestDatabase.uniquePhoneNumber()
        let firstName = "O'Brien \"Bob\" \\ Zoë 北京 🙂"
        let lastName = "'; DROP TABLE x; --"
        let comments = "'; DROP TABLE vicidial_list; --\r\nline two\nthree\0after a NUL"
        // Longer than the inline fetch buffer, and multi-byte, so the long-value path runs too.
        let address = String(repeating: "é", count: 100)

        let inserted = try connection.execute(
            """
            INSERT INTO vicidial_list
                (phone_number, first_name, last_name, comments, address1, vendor_lead_code,
                 list_id, `rank`, gmt_offset_now, entry_date)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.string(phone), .string(firstName), .string(lastName), .string(comments), .string(address), nil,
             101, -3, .double(-5), "2026-01-15 14:32:00"]
        )
        #expect(inserted.affectedRows == 1)
        #expect(inserted.lastInsertID > 0)

        let rows = try connection.query(
            """
            SELECT lead_id, first_name, last_name, comments, address1, vendor_lead_code, list_id,
                   `rank`, gmt_offset_now, entry_date
            FROM vicidial_list WHERE phone_number = ?
            """,
            [.string(phone)]
        )
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(try row.int("lead_id") == Int64(inserted.lastInsertID))
        #expect(try row.string("first_name") == firstName)
        #expect(try row.string("last_name") == lastName)
        #expect(try row.string("comments") == comments)
        #expect(try row.string("address1") == address)
        #expect(try row.string("vendor_lead_code") == nil)
        #expect(try row.int("list_id") == 101)
        #expect(try row.int("rank") == -3)
        #expect(try row.string("gmt_offset_now") == "-5.00")
        #expect(try row.string("entry_date") == "2026-01-15 14:32:00")

        // The text protocol (no parameters) must read the same row the same way.
        let textRow = try #require(
            try connection.query(
                """
                SELECT lead_id, first_name, last_name, comments, address1, vendor_lead_code, list_id,
                       `rank`, gmt_offset_now, entry_date
                FROM vicidial_list WHERE lead_id = \(inserted.lastInsertID)
                """
            ).first
        )
        #expect(textRow.values == row.values)
    }

    @Test func floatingPointValuesReadTheSameThroughBothProtocols() throws {
        let connection = try MariaDBConnection(configuration: TestDatabase.socketConfiguration())
        let prepared = try #require(
            try connection.query("SELECT CAST(? AS DOUBLE) AS tenth, CAST(? AS DOUBLE) AS two", ["0.1", "2"]).first
        )
        let text = try #require(try connection.query("SELECT CAST('0.1' AS DOUBLE) AS tenth, CAST('2' AS DOUBLE) AS two").first)
        #expect(prepared.values == ["0.1", "2"])
        #expect(text.values == ["0.1", "2"])
    }

    @Test func wrongPasswordIsTheServersAccessDenied() throws {
        let configuration = try TestDatabase.socketConfiguration(password: "not-the-password")
        let error = try #require(throws: MariaDBError.self) {
            try MariaDBConnection(configuration: configuration)
        }
        #expect(error.code == .accessDenied)
        #expect(error.code.rawValue == 1045)
        #expect(error.sqlState == "28000")
        #expect(error.message.contains("amibridge"))
    }

    @Test func missingTableIsAClearError() throws {
        let connection = try MariaDBConnection(configuration: TestDatabase.rootConfiguration())
        let prepared = "SELECT status FROM vicidial_no_such_table WHERE uniqueid = ?"
        let preparedError = try #require(throws: MariaDBError.self) {
            try connection.query(prepared, ["1234567890.1"])
        }
        #expect(preparedError.code == .noSuchTable)
        #expect(preparedError.sqlState == "42S02")
        #expect(preparedError.message.contains("vicidial_no_such_table"))
        #expect(preparedError.query == prepared)

        let textError = try #require(throws: MariaDBError.self) {
            try connection.query("SELECT status FROM vicidial_no_such_table")
        }
        #expect(textError.code == .noSuchTable)
        #expect("\(textError)".contains("vicidial_no_such_table"))
    }

    @Test func aMissingTableLooksLikeADeniedOneToTheBridgeUser() throws {
        // MariaDB does not tell a user without privileges whether a table exists, so with
        // production's table-level grants a missing table reads as "denied", naming the table.
        let connection = try MariaDBConnection(configuration: TestDatabase.socketConfiguration())
        let error = try #require(throws: MariaDBError.self) {
            try connection.query("SELECT status FROM vicidial_no_such_table WHERE uniqueid = ?", ["1234567890.1"])
        }
        #expect(error.code == .tableAccessDenied)
        #expect(error.message.contains("vicidial_no_such_table"))
    }

    @Test func theBridgeUserCannotChangeLeads() throws {
        // scripts/mariadb.sh grants what production grants: SELECT, plus INSERT on vicidial_list.
        let connection = try MariaDBConnection(configuration: TestDatabase.socketConfiguration())
        let error = try #require(throws: MariaDBError.self) {
            try connection.execute("UPDATE vicidial_list SET status = ? WHERE lead_id = ?", ["SALE", 1])
        }
        #expect(error.code == .tableAccessDenied)
    }

    @Test func parameterCountMismatchIsRejectedBeforeRunning() throws {
        let connection = try MariaDBConnection(configuration: TestDatabase.socketConfiguration())
        let phone = TestDatabase.uniquePhoneNumber()
        let error = try #require(throws: MariaDBError.self) {
            try connection.execute("INSERT INTO vicidial_list (phone_number, first_name) VALUES (?, ?)", [.string(phone)])
        }
        #expect(error.code == .parameterCountMismatch)
        #expect(try connection.query("SELECT lead_id FROM vicidial_list WHERE phone_number = ?", [.string(phone)]).isEmpty)
    }

    @Test func rowAccessorsRejectUnknownColumnsAndNonIntegers() throws {
        let connection = try MariaDBConnection(configuration: TestDatabase.socketConfiguration())
        let row = try #require(try connection.query("SELECT 'INCALL' AS status, 42 AS lead_id, NULL AS user").first)
        #expect(try row.int("LEAD_ID") == 42)
        #expect(try row.string("user") == nil)
        #expect(try row.int("user") == nil)
        let missing = try #require(throws: MariaDBRowError.self) { try row.string("campaign_id") }
        #expect(missing.reason == .noSuchColumn(available: ["status", "lead_id", "user"]))
        let notInteger = try #require(throws: MariaDBRowError.self) { try row.int("status") }
        #expect(notInteger.reason == .notAnInteger("INCALL"))
    }

    @Test func aKilledConnectionIsReplacedAndReadsAreRetried() throws {
        let connection = try MariaDBConnection(configuration: TestDatabase.socketConfiguration())
        let killer = try MariaDBConnection(configuration: TestDatabase.socketConfiguration())
        let before = try connectionID(of: connection)

        // KILL returns once the server has shut the victim's socket, so the next call sees it gone.
        _ = try killer.execute("KILL CONNECTION \(before)")
        let after = try connectionID(of: connection)
        #expect(after != before)
    }

    @Test func aWriteThatMayHaveRunIsNotRetriedButTheNextCallReconnects() throws {
        let connection = try MariaDBConnection(configuration: TestDatabase.socketConfiguration())
        let killer = try MariaDBConnection(configuration: TestDatabase.socketConfiguration())
        let phone = TestDatabase.uniquePhoneNumber()

        _ = try killer.execute("KILL CONNECTION \(try connectionID(of: connection))")
        // Without parameters the statement goes out in one step, so its fate is unknown: report it.
        let error = try #require(throws: MariaDBError.self) {
            try connection.execute("INSERT INTO vicidial_list (phone_number) VALUES ('\(phone)')")
        }
        #expect(error.code.isConnectionLost)

        _ = try killer.execute("KILL CONNECTION \(try connectionID(of: connection))")
        // A prepared write fails at the prepare step, before anything ran, so it is safe to retry.
        let inserted = try connection.execute("INSERT INTO vicidial_list (phone_number) VALUES (?)", [.string(phone)])
        #expect(inserted.affectedRows == 1)
        let rows = try connection.query("SELECT lead_id FROM vicidial_list WHERE phone_number = ?", [.string(phone)])
        #expect(rows.count == 1)
    }

    private func connectionID(of connection: MariaDBConnection) throws -> Int64 {
        let row = try #require(try connection.query("SELECT CONNECTION_ID() AS id").first)
        return try #require(try row.int("id"))
    }
}
