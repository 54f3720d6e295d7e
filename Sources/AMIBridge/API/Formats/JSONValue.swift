/// Any JSON value, for bodies whose shape is checked by hand (per row, with an error per field)
/// instead of failing the whole request at the first mismatch as a `Decodable` struct would.
enum JSONValue: Decodable, Sendable, Equatable {
    case string(String)
    /// As written, so `101` stays `101` (not `101.0`) when a number stands for text such as a list id.
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .number(String(value))
        } else if let value = try? container.decode(Double.self) {
            // `18005551234.0` is the integer it equals; Swift's `18005551234.0` would add a digit
            // to a phone number once the dot is stripped.
            self = .number(value == value.rounded() && abs(value) < 9e15 ? String(Int64(value)) : String(value))
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The value as a form field's text: strings as they are, numbers as written, null as empty
    /// (not given); nil for booleans, arrays and objects, which no text field can hold.
    var fieldText: String? {
        switch self {
        case .string(let text), .number(let text): text
        case .null: ""
        case .bool, .array, .object: nil
        }
    }
}
