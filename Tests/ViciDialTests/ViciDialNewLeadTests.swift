@testable import EventMapper
import Testing
@testable import ViciDial

/// What a lead must look like before it may be written to `vicidial_list`.
@Suite struct ViciDialNewLeadTests {
    @Test func theTwoRequiredFieldsAreEnoughAndTheRestGetsViciDialsDefaults() throws {
        let lead = try ViciDialNewLead(fields: ["phone_number": "800-555-1234", "list_id": "101"])
        #expect(lead.values["phone_number"] == "8005551234")
        #expect(lead.values["list_id"] == "101")
        #expect(lead.values["phone_code"] == "1")
        #expect(lead.values["status"] == "NEW")
        #expect(lead.values["gender"] == "U")
        #expect(lead.values["rank"] == "0")
        #expect(lead.values["gmt_offset_now"] == "0.00")
        #expect(lead.values["first_name"] == "")
        #expect(lead.values["date_of_birth"] == nil)
        #expect(lead.values.count == ViciDialNewLead.fieldNames.count - 1)
        #expect(ViciDialNewLead.requiredFieldNames == ["list_id", "phone_number"])
    }

    @Test func aNumberWithItsCountryCodeIsSplitLikeViciDialStoresIt() throws {
        let us = try ViciDialNewLead(fields: ["phone_number": "+1 (800) 555-1234", "list_id": "101"])
        #expect(us.values["phone_code"] == "1" && us.values["phone_number"] == "8005551234")
        let uk = try ViciDialNewLead(fields: ["phone_number": "+44 20 7946 0958", "phone_code": "+44", "list_id": "101"])
        #expect(uk.values["phone_code"] == "44" && uk.values["phone_number"] == "2079460958")
        let error = #expect(throws: ViciDialLeadValidationError.self) {
            try ViciDialNewLead(fields: ["phone_number": "+44 20 7946 0958", "list_id": "101"])
        }
        #expect(error?.fieldErrors.map(\.field) == ["phone_number"])
        #expect(error?.fieldErrors.first?.message.contains("phone_code 1") == true)
    }

    @Test func everyProblemOfARowIsReportedAtOnce() throws {
        let error = #expect(throws: ViciDialLeadValidationError.self) {
            try ViciDialNewLead(fields: [
                "phone_number": "555-CALL-NOW", "first_name": String(repeating: "x", count: 31), "comments": "line 1\r\nline 2",
                "gender": "X", "date_of_birth": "2026-02-30", "phone": "8005551234", "state": "Texas", "email": "",
            ])
        }
        #expect(error?.fieldErrors.map(\.field) == ["phone", "list_id", "phone_number", "first_name", "state", "gender", "date_of_birth", "comments"])
        #expect(error?.fieldErrors.first { $0.field == "phone" }?.message == "unknown field")
        #expect(error?.fieldErrors.first { $0.field == "list_id" }?.message == "required")
        #expect(error?.fieldErrors.first { $0.field == "comments" }?.message.contains("control characters") == true)
        #expect(error?.fieldErrors.first { $0.field == "first_name" }?.message == "must be at most 30 characters")
    }

    @Test func lengthsCountCharactersAsMariaDBDoes() throws {
        // 30 code points of 4 UTF-8 bytes each fit VARCHAR(30) in utf8mb4; a 31st does not.
        let emoji = String(repeating: "😀", count: 30)
        #expect(try ViciDialNewLead(fields: ["phone_number": "8005551234", "list_id": "101", "first_name": emoji]).values["first_name"] == emoji)
        #expect(throws: ViciDialLeadValidationError.self) {
            try ViciDialNewLead(fields: ["phone_number": "8005551234", "list_id": "101", "first_name": emoji + "😀"])
        }
    }

    @Test("codes and numbers are normalised, padded spaces forgiven", arguments: [
        ("gmt_offset_now", "-5", "-5.00"), ("gmt_offset_now", "+5.5", "5.50"), ("gmt_offset_now", "14", "14.00"),
        ("gmt_offset_now", "-0", "0.00"), ("list_id", " 101 ", "101"), ("gender", "f", "F"), ("rank", "-7", "-7"),
        ("date_of_birth", "2000-02-29", "2000-02-29"), ("alt_phone", "(555) 123-4567", "5551234567"), ("status", "SALE", "SALE"),
    ])
    func normalised(field: String, text: String, stored: String) throws {
        var fields = ["phone_number": "8005551234", "list_id": "101"]
        fields[field] = text
        #expect(try ViciDialNewLead(fields: fields).values[field] == stored)
    }

    @Test("values a column cannot hold are refused", arguments: [
        ("gmt_offset_now", "-12.5"), ("gmt_offset_now", "5.755"), ("gmt_offset_now", "east"), ("list_id", "99"),
        ("list_id", "1e3"), ("rank", "40000"), ("date_of_birth", "1999-2-3"), ("date_of_birth", "2100-02-29"),
        ("status", "TOOLONG"), ("status", "S ALE"), ("phone_code", "12345"), ("alt_phone", "1234567890123"), ("middle_initial", "AB"),
    ])
    func refused(field: String, text: String) {
        var fields = ["phone_number": "8005551234", "list_id": "101"]
        fields[field] = text
        let error = #expect(throws: ViciDialLeadValidationError.self) { try ViciDialNewLead(fields: fields) }
        #expect(error?.fieldErrors.map(\.field) == [field])
    }

    @Test func unknownFieldsCanBeIgnoredForCallersWithOtherParameters() throws {
        let fields = ["phone_number": "8005551234", "list_id": "101", "function": "add_lead", "api_key": "k"]
        #expect(throws: ViciDialLeadValidationError.self) { try ViciDialNewLead(fields: fields) }
        #expect(try ViciDialNewLead(fields: fields, ignoringUnknownFields: true).values["phone_number"] == "8005551234")
    }

    @Test func theInsertBindsOneValuePerColumnInOrder() throws {
        let lead = try ViciDialNewLead(fields: ["phone_number": "8005551234", "list_id": "101", "rank": "3", "first_name": "Ada"])
        let parameters = lead.parameters
        #expect(parameters.count == ViciDialNewLead.insertColumns.count)
        let byColumn = Dictionary(uniqueKeysWithValues: zip(ViciDialNewLead.insertColumns, parameters))
        #expect(byColumn["list_id"] == .int(101))
        #expect(byColumn["`rank`"] == .int(3))
        #expect(byColumn["first_name"] == .string("Ada"))
        #expect(byColumn["date_of_birth"] == .null)
        #expect(ViciDialRepository.insertStatement(rows: 2).filter { $0 == "?" }.count == 2 * parameters.count)
    }
}
