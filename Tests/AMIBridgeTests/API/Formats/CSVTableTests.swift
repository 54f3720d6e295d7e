@testable import AMIBridge
import Testing

/// RFC 4180 as spreadsheets and CRMs write it, and a line-numbered error for anything ambiguous.
@Suite struct CSVTableTests {
    func fields(_ text: String) throws -> [[String]] {
        try CSVTable(parsing: Array(text.utf8)).records.map(\.fields)
    }

    @Test func quotedFieldsHoldCommasDoubledQuotesAndLineBreaks() throws {
        let text = "name,comments\r\n\"O'Brien, \"\"Bob\"\"\",\"line 1\r\nline 2\"\r\nplain,\"\"\r\n"
        let table = try CSVTable(parsing: Array(text.utf8))
        #expect(table.records.map(\.fields) == [["name", "comments"], [#"O'Brien, "Bob""#, "line 1\r\nline 2"], ["plain", ""]])
        // The third record starts on line 4: the quoted line break is inside the second.
        #expect(table.records.map(\.line) == [1, 2, 4])
    }

    @Test("every common line ending ends a record", arguments: ["a,b\r\nc,d\r\n", "a,b\nc,d\n", "a,b\rc,d\r", "a,b\r\nc,d"])
    func lineEndings(text: String) throws {
        #expect(try fields(text) == [["a", "b"], ["c", "d"]])
    }

    @Test func emptyFieldsBlankLinesAndAByteOrderMark() throws {
        #expect(try fields("\u{FEFF}a,,c\n\n,\n\r\n\"\"\n") == [["a", "", "c"], ["", ""], [""]])
        #expect(try fields("").isEmpty)
        #expect(try fields("Zoë,北京,😀\n") == [["Zoë", "北京", "😀"]])
    }

    @Test("ambiguous input is an error with its line", arguments: [
        ("a,b\nc,d\"e\n", 2, "a quote inside an unquoted field"),
        ("a\n\"b\"c,d\n", 2, "text after a closing quote"),
        ("a\nb,\"open\nstill open", 2, "a quoted field is not closed"),
    ])
    func errors(text: String, line: Int, reason: String) {
        let error = #expect(throws: CSVTable.ParseError.self) { try CSVTable(parsing: Array(text.utf8)) }
        #expect(error?.line == line)
        #expect(error?.reason.hasPrefix(reason) == true)
    }

    @Test func bytesThatAreNotUTF8AreAnError() {
        let error = #expect(throws: CSVTable.ParseError.self) { try CSVTable(parsing: Array("a,b\n".utf8) + [0x63, 0xFF, 0x0A]) }
        #expect(error == CSVTable.ParseError(line: 2, reason: "not valid UTF-8"))
    }
}
