/// An optional that an API answer shows as `null` instead of leaving its key out: every answer
/// of a kind has the same keys, so a client never has to tell "missing" from "unknown" (as the
/// SPEC asks of webhook bodies). Synthesized `Encodable` would drop nil optionals.
@propertyWrapper
struct NullEncoded<Value: Encodable & Sendable>: Encodable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue {
            try container.encode(wrappedValue)
        } else {
            try container.encodeNil()
        }
    }
}
