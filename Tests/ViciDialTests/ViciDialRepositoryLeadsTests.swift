@testable import EventMapper
@testable import MariaDB
import Testing
@testable import ViciDial
import ViciDialTestSupport

/// Lead inserts through the bridge's own least-privilege user, read back as MariaDB's root.
@Suite struct ViciDialRepositoryLeadsTests {
    let driver: ViciDialTestDriver
    init() throws { driver = try ViciDialTestDriver() }

    /// A list id no other test uses: each test finds exactly its own leads by it.
    static func listID() -> Int64 { Int64.random(in: 10_000_000_000...99_999_999_999_999) }

    static func lead(list: Int64, phone: String, _ extra: [String: String] = [:]) throws -> ViciDialNewLead {
        try ViciDialNewLead(fields: ["phone_number": phone, "list_id": String(list)].merging(extra) { $1 })
    }

    @Test func aBatchLargerThanOneStatementGetsEachRowsOwnLeadID() async throws {
        let list = Self.listID()
        let count = ViciDialRepository.leadRowsPerStatement + 50
        let base = Int64.random(in: 2_000_000_000...8_000_000_000)
        let leads = try (0..<count).map { try Self.lead(list: list, phone: String(base + Int64($0)), ["first_name": "n\($0)"]) }
        let ids = try await ViciDialTestDriver.repository().insertLeads(leads)
        #expect(ids.count == count)
        #expect(Set(ids).count == count)

        let rows = try await driver.root.query("SELECT lead_id, phone_number, first_name FROM vicidial_list WHERE list_id = ?", [.int(list)])
        #expect(rows.count == count)
        var byID: [Int64: (String?, String?)] = [:]
        for row in rows { byID[try #require(try row.int("lead_id"))] = (try row.string("phone_number"), try row.string("first_name")) }
        let mismatches = ids.enumerated().filter { index, id in
            byID[id]?.0 != String(base + Int64(index)) || byID[id]?.1 != "n\(index)"
        }
        #expect(mismatches.isEmpty)
    }

    @Test func columnsAreWrittenTheWayViciDialsLoadersWriteThem() async throws {
        let list = Self.listID()
        let id = try await ViciDialTestDriver.repository().addLead(
            try Self.lead(list: list, phone: "+1 800 555 0199", ["date_of_birth": "1990-07-04", "gmt_offset_now": "-5", "rank": "9"])
        )
        let row = try #require(try await driver.root.query(
            """
            SELECT status, phone_code, phone_number, list_id, called_since_last_reset, called_count, last_local_call_time,
                   entry_list_id, gender, date_of_birth, gmt_offset_now, `rank`, first_name, entry_date IS NOT NULL AS dated
            FROM vicidial_list WHERE lead_id = ?
            """, [.int(id)]).first)
        #expect(try row.string("status") == "NEW")
        #expect(try row.string("phone_code") == "1")
        #expect(try row.string("phone_number") == "8005550199")
        #expect(try row.int("list_id") == list)
        #expect(try row.string("called_since_last_reset") == "N")
        #expect(try row.int("called_count") == 0)
        #expect(try row.string("last_local_call_time") == "2008-01-01 00:00:00")
        #expect(try row.int("entry_list_id") == 0)
        #expect(try row.string("gender") == "U")
        #expect(try row.string("date_of_birth") == "1990-07-04")
        #expect(try row.string("gmt_offset_now") == "-5.00")
        #expect(try row.int("rank") == 9)
        #expect(try row.string("first_name") == "")
        #expect(try row.int("dated") == 1)
    }

    @Test func hostileTextLandsByteExact() async throws {
        let list = Self.listID()
        let comments = #"a,b;"c" \ '); DROP TABLE vicidial_list; -- 😀 北京 Zoë"#
        let lastName = #"O'Brien "Bob""#
        let id = try await ViciDialTestDriver.repository().addLead(
            try Self.lead(list: list, phone: TestDatabase.uniquePhoneNumber(), ["comments": comments, "last_name": lastName])
        )
        let row = try #require(try await driver.root.query("SELECT comments, last_name FROM vicidial_list WHERE lead_id = ?", [.int(id)]).first)
        #expect(try row.string("comments") == comments)
        #expect(try row.string("last_name") == lastName)
    }

    @Test func withoutInsertPrivilegeTheImportFailsAndSaysNothingWasWritten() async throws {
        let configuration = try await driver.createUser(granting: "SELECT")
        let repository = ViciDialRepository(database: MariaDBClient(configuration: configuration))
        let list = Self.listID()
        let error = await #expect(throws: ViciDialLeadImportError.self) {
            try await repository.insertLeads([try Self.lead(list: list, phone: TestDatabase.uniquePhoneNumber())])
        }
        try await driver.dropUser(configuration)
        #expect((error?.underlying as? MariaDBError)?.code == .tableAccessDenied)
        #expect(error?.isTransactional == false)
        #expect(error?.writtenLeadIDs == [])
        #expect(try await driver.root.query("SELECT lead_id FROM vicidial_list WHERE list_id = ?", [.int(list)]).isEmpty)
    }
}
