/// Stored as the 20-character code itself: held calls are written to the state directory as JSON,
/// and the code is all there is to a caller code (type and lead are read off it).
extension ViciDialCallerCode: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let code = ViciDialCallerCode(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a ViciDial caller code: \(text)")
        }
        self = code
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}
