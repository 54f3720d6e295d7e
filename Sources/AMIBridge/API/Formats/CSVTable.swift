/// A CSV body (RFC 4180) as records of fields: what `POST /v1/leads` takes with
/// `Content-Type: text/csv`, as spreadsheets and CRMs export it.
///
/// Fields are separated by commas; a field in double quotes may hold commas, line breaks and
/// doubled quotes (`""` is one `"`). Records end with CRLF, or a bare LF or CR (files edited on
/// other systems). A UTF-8 byte order mark (Excel) is skipped; blank lines are not records.
/// Anything else ambiguous is an error with its line, not a guess: a quote inside an unquoted
/// field, text after a closing quote, a quote left open, bytes that are not UTF-8.
struct CSVTable: Sendable, Equatable {
    struct Record: Sendable, Equatable {
        /// The line (1-based) the record starts on: records with quoted line breaks span several.
        var line: Int
        var fields: [String]
    }

    struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        var line: Int
        var reason: String
        var description: String { "CSV line \(line): \(reason)" }
    }

    var records: [Record]

    init(parsing bytes: some Collection<UInt8>) throws(ParseError) {
        var parser = Parser()
        var input = Array(bytes)[...]
        if input.starts(with: [0xEF, 0xBB, 0xBF]) { input = input.dropFirst(3) }
        for byte in input { try parser.consume(byte) }
        try parser.finish()
        records = parser.records
    }

    /// One byte at a time; the field's bytes are decoded as UTF-8 when it ends.
    private struct Parser {
        enum State {
            /// Nothing of the current field read yet.
            case fieldStart
            case unquoted
            case quoted
            /// A `"` inside a quoted field: the next byte says whether it was `""` or the end.
            case quoteInQuoted
            /// A CR ended a record; an LF right after it belongs to the same line break.
            case afterCR
        }

        var state = State.fieldStart
        var field: [UInt8] = []
        var fields: [String] = []
        var records: [Record] = []
        var line = 1
        var recordLine = 1

        mutating func consume(_ byte: UInt8) throws(ParseError) {
            switch state {
            case .afterCR:
                state = .fieldStart
                if byte == UInt8(ascii: "\n") { return }
                try consume(byte)
            case .fieldStart, .unquoted:
                switch byte {
                case UInt8(ascii: ","): try endField()
                case UInt8(ascii: "\r"):
                    try endRecord()
                    state = .afterCR
                case UInt8(ascii: "\n"): try endRecord()
                case UInt8(ascii: "\""):
                    guard case .fieldStart = state else { throw ParseError(line: line, reason: "a quote inside an unquoted field; quote the whole field and double the quote") }
                    state = .quoted
                default:
                    field.append(byte)
                    state = .unquoted
                }
            case .quoted:
                if byte == UInt8(ascii: "\"") {
                    state = .quoteInQuoted
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
            case .quoteInQuoted:
                switch byte {
                case UInt8(ascii: "\""):
                    field.append(byte)
                    state = .quoted
                case UInt8(ascii: ","): try endField()
                case UInt8(ascii: "\r"):
                    try endRecord()
                    state = .afterCR
                case UInt8(ascii: "\n"): try endRecord()
                default: throw ParseError(line: line, reason: "text after a closing quote")
                }
            }
        }

        mutating func finish() throws(ParseError) {
            switch state {
            case .quoted: throw ParseError(line: recordLine, reason: "a quoted field is not closed")
            case .fieldStart where fields.isEmpty, .afterCR: return
            case .fieldStart, .unquoted, .quoteInQuoted: try endRecord()
            }
        }

        private mutating func endField() throws(ParseError) {
            guard let text = String(validating: field, as: UTF8.self) else {
                throw ParseError(line: line, reason: "not valid UTF-8")
            }
            fields.append(text)
            field.removeAll(keepingCapacity: true)
            state = .fieldStart
        }

        private mutating func endRecord() throws(ParseError) {
            // An unquoted empty line is no record; `""` on its own line is a record of one empty field.
            let blank = fields.isEmpty && field.isEmpty && { if case .fieldStart = state { true } else { false } }()
            if !blank {
                try endField()
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []
            state = .fieldStart
            line += 1
            recordLine = line
        }
    }
}
