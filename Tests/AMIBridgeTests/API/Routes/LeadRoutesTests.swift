@testable import AMIBridge
import EventMapper
import Foundation
import MariaDB
import Testing
import ViciDial
import ViciDialTestSupport

/// `POST /v1/leads` through the router into the private MariaDB's `vicidial_list`.
@Suite struct LeadRoutesTests {
    /// A list id no other test uses: each test reads back exactly its own leads.
    static func listID() -> Int64 { Int64.random(in: 10_000_000_000...99_999_999_999_999) }

    /// The leads of `list`, as MariaDB's root reads them.
    func leads(in list: Int64, _ test: ViciDialAPITest, columns: String = "lead_id, phone_number, first_name") async throws -> [[String: String?]] {
        try await test.driver.root.query("SELECT \(columns) FROM vicidial_list WHERE list_id = ? ORDER BY lead_id", [.int(list)]).map { row in
            Dictionary(uniqueKeysWithValues: row.columns.names.enumerated().map { ($1, row.values[$0]) })
        }
    }

    @Test func aMixedJSONBatchAnswersPerRowAndWritesExactlyTheValidRows() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let list = Self.listID()
        let first = TestDatabase.uniquePhoneNumber()
        let second = TestDatabase.uniquePhoneNumber()
        let body = """
            [
              {"phone_number": "\(first)", "list_id": \(list), "first_name": "Ada", "vendor_lead_code": "CRM-1"},
              {"phone_number": "800555ABCD", "list_id": "\(list)"},
              {"phone_number": "\(TestDatabase.uniquePhoneNumber())"},
              {"phone_number": \(second), "list_id": "\(list)", "comments": null},
              42,
              {"phone_number": "\(TestDatabase.uniquePhoneNumber())", "list_id": "\(list)", "first_name": true}
            ]
            """
        let answer = try await test.post("/v1/leads", body)
        #expect(answer.status == .ok)
        #expect(answer.json["inserted"] as? Int == 2)
        #expect(answer.json["invalid"] as? Int == 4)
        let results = try #require(answer.json["results"] as? [[String: Any]])
        #expect(results.map { $0["row"] as? Int } == [1, 2, 3, 4, 5, 6])
        #expect(results.map { $0["status"] as? String } == ["inserted", "invalid", "invalid", "inserted", "invalid", "invalid"])
        func errorFields(_ row: Int) -> [String] {
            (results[row - 1]["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
        }
        #expect(errorFields(2) == ["phone_number"])
        #expect(errorFields(3) == ["list_id"])
        #expect(errorFields(5) == ["row"])
        #expect(errorFields(6) == ["first_name"])
        #expect(results[0]["errors"] == nil && results[1]["lead_id"] == nil)

        let stored = try await leads(in: list, test)
        #expect(stored.map { $0["phone_number"] ?? nil } == [first, second])
        #expect(stored.map { $0["lead_id"] ?? nil } == [results[0], results[3]].map { ($0["lead_id"] as? Int).map(String.init) })
        #expect(stored.first?["first_name"] ?? nil == "Ada")
    }

    @Test func quotedCSVLandsByteExact() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let list = Self.listID()
        let phones = (0..<3).map { _ in TestDatabase.uniquePhoneNumber() }
        // Excel-style: BOM, CRLF, quoted commas, doubled quotes, a quoted line break (refused: a
        // control character in a lead field) and padded header names.
        let csv = "\u{FEFF} Phone_Number ,list_id,first_name,last_name,comments,address1\r\n"
            + "\(phones[0]),\(list),Zoë,\"O'Brien, \"\"Bob\"\"\",\"said \"\"call me\"\", after 5\",\"1 Main St, Apt 2\"\r\n"
            + "\(phones[1]),\(list),Line,Break,\"first\r\nsecond\",\r\n"
            + "\"\(phones[2])\",\"\(list)\",北京,\"\",\"'); DROP TABLE vicidial_list; --\",\r\n"
        let answer = try await test.post("/v1/leads", csv, contentType: "text/csv; charset=utf-8")
        #expect(answer.status == .ok)
        #expect(answer.json["inserted"] as? Int == 2)
        let results = try #require(answer.json["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? String } == ["inserted", "invalid", "inserted"])
        #expect(((results[1]["errors"] as? [[String: Any]])?.first?["field"] as? String) == "comments")

        let stored = try await leads(in: list, test, columns: "phone_number, first_name, last_name, comments, address1")
        #expect(stored.count == 2)
        #expect(stored.first?["first_name"] ?? nil == "Zoë")
        #expect(stored.first?["last_name"] ?? nil == #"O'Brien, "Bob""#)
        #expect(stored.first?["comments"] ?? nil == #"said "call me", after 5"#)
        #expect(stored.first?["address1"] ?? nil == "1 Main St, Apt 2")
        #expect(stored.last?["phone_number"] ?? nil == phones[2])
        #expect(stored.last?["first_name"] ?? nil == "北京")
        #expect(stored.last?["comments"] ?? nil == "'); DROP TABLE vicidial_list; --")
    }

    @Test("bodies that are not a batch of leads are 400", arguments: [
        ("{not json", "application/json"),
        (#"{"phone_number":"8005551234","list_id":"101"}"#, "application/json"),
        ("[]", "application/json"),
        ("phone_number,list_id\n\"8005551234,101\n", "text/csv"),
        ("phone_number,list_id\n8005551234\"x\",101\n", "text/csv"),
        ("phone,list_id\n8005551234,101\n", "text/csv"),
        ("phone_number,first_name\n8005551234,Ada\n", "text/csv"),
        ("phone_number,list_id,list_id\n8005551234,101,101\n", "text/csv"),
        ("phone_number,list_id\n", "text/csv"),
        ("", "text/csv"),
    ])
    func notABatch(body: String, contentType: String) async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let answer = try await test.post("/v1/leads", body, contentType: contentType)
        #expect(answer.status == .badRequest)
        #expect(answer.errorCode == "invalid_request")
    }

    @Test func aCSVRecordWithTheWrongNumberOfFieldsIsAnInvalidRow() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let list = Self.listID()
        let phone = TestDatabase.uniquePhoneNumber()
        let answer = try await test.post("/v1/leads", "phone_number,list_id\n\(phone),\(list),extra\n\(phone),\(list)\n", contentType: "text/csv")
        #expect(answer.status == .ok)
        let results = try #require(answer.json["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? String } == ["invalid", "inserted"])
        #expect(try await leads(in: list, test).count == 1)
    }

    @Test func moreThanTheRowLimitIs413AndWritesNothing() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let list = Self.listID()
        let row = #"{"phone_number":"8005551234","list_id":"\#(list)"}"#
        let body = "[" + Array(repeating: row, count: LeadRoutes.maximumRows + 1).joined(separator: ",") + "]"
        let answer = try await test.post("/v1/leads", body)
        #expect(answer.status == .contentTooLarge)
        #expect(answer.errorCode == "too_many_rows")
        #expect(try await leads(in: list, test).isEmpty)
    }

    @Test func aDatabaseUserWithoutInsertGetsAnImportErrorThatSaysWhatMayBeWritten() async throws {
        let driver = try ViciDialTestDriver()
        let configuration = try await driver.createUser(granting: "SELECT")
        let test = try ViciDialAPITest(repository: ViciDialRepository(database: MariaDBClient(configuration: configuration)))
        defer { test.remove() }
        let list = Self.listID()
        let answer = try await test.post("/v1/leads", #"[{"phone_number":"8005551234","list_id":"\#(list)"}]"#)
        try await driver.dropUser(configuration)
        #expect(answer.status == .internalServerError)
        #expect(answer.errorCode == "import_failed")
        #expect(APIErrorBody.decode(answer.body)?.error.message.contains("MyISAM") == true)
        // The message names no SQL and no database account.
        #expect(!answer.text.contains("INSERT") && !answer.text.contains(configuration.username))
        #expect(try await leads(in: list, test).isEmpty)
    }

    @Test func aFormBodyIs415() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let answer = try await test.post("/v1/leads", "phone_number=8005551234&list_id=101", contentType: "application/x-www-form-urlencoded")
        #expect(answer.status == .unsupportedMediaType)
        #expect(answer.errorCode == "unsupported_media_type")
    }
}
