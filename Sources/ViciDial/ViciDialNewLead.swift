import MariaDB
/// A lead to insert into `vicidial_list`, checked field by field against what the column can hold.
///
/// The only way to make one is ``init(fields:ignoringUnknownFields:)``, so every lead the bridge
/// writes (batch import, the compatibility `add_lead`) passes the same checks: a value that does
/// not fit its column is reported, never truncated by MariaDB or stored with control characters
/// that would break ViciDial's screens, exports and dial strings.
public struct ViciDialNewLead: Sendable, Hashable {
    /// Every column the insert writes, by field name, normalised (phone numbers as digits,
    /// defaults applied); `date_of_birth` is absent when not given.
    public let values: [String: String]

    /// The field names a lead may carry, in `vicidial_list` column order.
    public static var fieldNames: [String] { fields.map(\.name) }
    /// The fields without which a lead is refused.
    public static var requiredFieldNames: [String] { fields.filter(\.isRequired).map(\.name) }

    /// Validates `fields` (name → text; an empty text counts as not given, as in a CSV cell).
    ///
    /// Throws every problem at once, so a caller fixes a row in one go. Unknown names are
    /// problems too (a misspelt `phone` would otherwise silently drop the number), unless
    /// `ignoringUnknownFields`, for callers whose parameters mix lead fields with others.
    public init(fields: [String: String], ignoringUnknownFields: Bool = false) throws(ViciDialLeadValidationError) {
        var problems: [ViciDialLeadValidationError.FieldError] = []
        if !ignoringUnknownFields {
            let known = Set(Self.fieldNames)
            for name in fields.keys.sorted() where !known.contains(name) {
                problems.append(.init(field: name, message: "unknown field"))
            }
        }
        var values: [String: String] = [:]
        for field in Self.fields {
            let raw = fields[field.name] ?? ""
            if raw.isEmpty {
                if field.isRequired { problems.append(.init(field: field.name, message: "required")) }
                if let value = field.defaultValue { values[field.name] = value }
                continue
            }
            switch field.kind.check(raw) {
            case .valid(let value): values[field.name] = value
            case .invalid(let message): problems.append(.init(field: field.name, message: message))
            }
        }
        if let phone = values["phone_number"], let code = values["phone_code"], let number = PhoneNumber(phone), number.hasCountryCode {
            // ViciDial keeps the country code apart (`phone_code`) and dials phone_code + phone_number.
            if number.digits.hasPrefix(code), number.digits.utf8.count > code.utf8.count {
                values["phone_number"] = String(number.digits.dropFirst(code.count))
            } else {
                problems.append(.init(field: "phone_number", message: "\(number) does not begin with phone_code \(code); give the country code in phone_code"))
            }
        }
        guard problems.isEmpty else { throw ViciDialLeadValidationError(fieldErrors: problems) }
        self.values = values
    }

    /// The values to bind for ``insertColumns``, in order.
    var parameters: [MariaDBValue] {
        Self.fields.map { field in
            guard let value = values[field.name] else { return .null }
            switch field.kind {
            case .integer: return Int64(value).map(MariaDBValue.int) ?? .string(value)
            default: return .string(value)
            }
        }
    }

    /// The columns bound from ``values``; `rank` is a reserved word on MySQL 8, hence quoted.
    static var insertColumns: [String] { fields.map { $0.name == "rank" ? "`rank`" : $0.name } }

    // MARK: - The fields and their checks

    struct Field: Sendable {
        var name: String
        var kind: Kind
        var isRequired = false
        /// What the column gets when the field is not given. ViciDial's own loaders write `''`
        /// rather than NULL into text columns, and its screens and reports expect that.
        var defaultValue: String? = ""
    }

    enum Kind: Sendable {
        /// Free text of at most this many characters (MariaDB counts code points in utf8mb4).
        case text(maximum: Int)
        /// ``PhoneNumber``; stored as its digits (the country code is split off by the init).
        case phone
        /// Digits only once `+`, spaces, dashes, dots and parentheses are removed, at most this many.
        case digits(maximum: Int)
        /// A code of 1 to `maximum` ASCII letters, digits, `_` or `-`.
        case code(maximum: Int)
        case integer(ClosedRange<Int64>)
        /// Hours east of GMT, two decimals at most (`DECIMAL(4,2)`).
        case gmtOffset
        case choice([String])
        /// `YYYY-MM-DD`, a real calendar day.
        case date

        func check(_ raw: String) -> Checked {
            switch self {
            case .text(let maximum):
                if let problem = Self.textProblem(raw, maximum: maximum) { return .invalid(problem) }
                return .valid(raw)
            case .phone:
                // The country-code split needs phone_code, so it happens in the init.
                guard let number = PhoneNumber(raw) else { return .invalid("must be \(PhoneNumber.rule)") }
                return .valid(number.description)
            case .digits(let maximum):
                let kept = raw.unicodeScalars.filter { !"+ -.()".unicodeScalars.contains($0) }
                guard !kept.isEmpty, kept.count <= maximum, kept.allSatisfy(Self.isDigit) else {
                    return .invalid("must be at most \(maximum) digits")
                }
                return .valid(String(String.UnicodeScalarView(kept)))
            case .code(let maximum):
                let value = Self.trimmed(raw)
                guard (1...maximum).contains(value.unicodeScalars.count),
                      value.unicodeScalars.allSatisfy({ $0.isASCII && (Self.isDigit($0) || Self.isLetter($0) || $0 == "_" || $0 == "-") })
                else { return .invalid("must be 1-\(maximum) letters, digits, _ or -") }
                return .valid(value)
            case .integer(let range):
                let value = Self.trimmed(raw)
                guard let number = Int64(value), range.contains(number) else {
                    return .invalid("must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                }
                return .valid(String(number))
            case .gmtOffset:
                return Self.gmtOffset(Self.trimmed(raw)).map(Checked.valid) ?? .invalid("must be hours from -12 to 14 with at most two decimals, e.g. -5.00")
            case .choice(let choices):
                let value = Self.trimmed(raw).uppercased()
                guard choices.contains(value) else { return .invalid("must be one of \(choices.joined(separator: ", "))") }
                return .valid(value)
            case .date:
                let value = Self.trimmed(raw)
                guard Self.isCalendarDate(value) else { return .invalid("must be a date YYYY-MM-DD") }
                return .valid(value)
            }
        }

        static func textProblem(_ text: String, maximum: Int) -> String? {
            if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                return "must not contain control characters (CR, LF, tab, NUL...)"
            }
            if text.unicodeScalars.count > maximum { return "must be at most \(maximum) characters" }
            return nil
        }

        static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
        static func isLetter(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) }

        /// Spreadsheets pad numbers and codes with spaces; text fields are kept as written.
        static func trimmed(_ text: String) -> String {
            let scalars = text.unicodeScalars
            guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
                  let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })
            else { return "" }
            return String(scalars[first...last])
        }

        /// `-5`, `+5.5`, `5.75` → `-5.00`, `5.50`, `5.75`; nil outside -12...14 or with more than two decimals.
        static func gmtOffset(_ text: String) -> String? {
            var scalars = Substring(text)
            var negative = false
            if let sign = scalars.first, sign == "-" || sign == "+" {
                negative = sign == "-"
                scalars = scalars.dropFirst()
            }
            let parts = scalars.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            guard let whole = parts.first, (1...2).contains(whole.count), whole.unicodeScalars.allSatisfy(isDigit) else { return nil }
            let fraction = parts.count == 2 ? parts[1] : ""
            guard fraction.count <= 2, parts.count == 1 || !fraction.isEmpty, fraction.unicodeScalars.allSatisfy(isDigit) else { return nil }
            let hundredths = Int(whole)! * 100 + Int(fraction.padding(toLength: 2))!
            guard hundredths <= (negative ? 1200 : 1400) else { return nil }
            let sign = negative && hundredths > 0 ? "-" : ""
            let cents = hundredths % 100
            return "\(sign)\(hundredths / 100).\(cents < 10 ? "0" : "")\(cents)"
        }

        static func isCalendarDate(_ text: String) -> Bool {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
                  parts.allSatisfy({ $0.unicodeScalars.allSatisfy(isDigit) }),
                  let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
                  year >= 1000, (1...12).contains(month)
            else { return false }
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
            return (1...days).contains(day)
        }
    }

    enum Checked: Sendable {
        /// The value as it is stored.
        case valid(String)
        /// What is wrong, for the caller.
        case invalid(String)
    }

    /// In `vicidial_list` column order; lengths are the columns' (FACTS.md, Tests/Fixtures/vicidial-schema.sql).
    static let fields: [Field] = [
        Field(name: "status", kind: .code(maximum: 6), defaultValue: "NEW"),
        Field(name: "user", kind: .text(maximum: 20)),
        Field(name: "vendor_lead_code", kind: .text(maximum: 20)),
        Field(name: "source_id", kind: .text(maximum: 50)),
        // ViciDial's loaders refuse list ids below 100 (the low ones are reserved).
        Field(name: "list_id", kind: .integer(100...99_999_999_999_999), isRequired: true, defaultValue: nil),
        // ViciDial's own loaders look this up from the phone code and area code; a later run of
        // its ADMIN_adjust_GMTnow_on_leads.pl corrects it. Until then the lead counts as GMT.
        Field(name: "gmt_offset_now", kind: .gmtOffset, defaultValue: "0.00"),
        Field(name: "phone_code", kind: .digits(maximum: 4), defaultValue: "1"),
        Field(name: "phone_number", kind: .phone, isRequired: true, defaultValue: nil),
        Field(name: "title", kind: .text(maximum: 4)),
        Field(name: "first_name", kind: .text(maximum: 30)),
        Field(name: "middle_initial", kind: .text(maximum: 1)),
        Field(name: "last_name", kind: .text(maximum: 30)),
        Field(name: "address1", kind: .text(maximum: 100)),
        Field(name: "address2", kind: .text(maximum: 100)),
        Field(name: "address3", kind: .text(maximum: 100)),
        Field(name: "city", kind: .text(maximum: 50)),
        Field(name: "state", kind: .text(maximum: 2)),
        Field(name: "province", kind: .text(maximum: 50)),
        Field(name: "postal_code", kind: .text(maximum: 10)),
        Field(name: "country_code", kind: .text(maximum: 3)),
        Field(name: "gender", kind: .choice(["M", "F", "U"]), defaultValue: "U"),
        Field(name: "date_of_birth", kind: .date, defaultValue: nil),
        Field(name: "alt_phone", kind: .digits(maximum: 12)),
        Field(name: "email", kind: .text(maximum: 70)),
        Field(name: "security_phrase", kind: .text(maximum: 100)),
        Field(name: "comments", kind: .text(maximum: 255)),
        Field(name: "rank", kind: .integer(-32_768...32_767), defaultValue: "0"),
        Field(name: "owner", kind: .text(maximum: 20)),
    ]
}

/// Why a lead was refused: every field's problem, so the caller can fix the row in one go.
public struct ViciDialLeadValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct FieldError: Sendable, Hashable, Codable {
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var fieldErrors: [FieldError]

    public init(fieldErrors: [FieldError]) {
        self.fieldErrors = fieldErrors
    }

    public var description: String { fieldErrors.map { "\($0.field): \($0.message)" }.joined(separator: "; ") }
}

extension Substring {
    /// Right-padded with zeros (`"5"` → `"50"`), for decimal fractions.
    fileprivate func padding(toLength length: Int) -> String {
        String(self) + String(repeating: "0", count: Swift.max(0, length - count))
    }
}
