import NIOCore

/// An AMI action to send: its name and its fields in order (keys may repeat, e.g. `Variable`).
///
/// Every key and value is checked before a byte is written: CR, LF or NUL would let a value
/// smuggle extra headers or a whole extra action into the stream (AMI header injection), so an
/// action holding one is rejected with ``AMIError/Code/forbiddenCharacter``.
public struct AMIAction: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var fields: [AMIField]

    public init(_ name: String, _ fields: [(String, String)] = []) {
        self.name = name
        self.fields = fields.map { AMIField(name: $0.0, value: $0.1) }
    }

    /// Checks every key and value; throws on the first one that cannot be sent safely.
    public func validate() throws {
        try Self.validate(key: "Action", value: name)
        if name.isEmpty { throw AMIError(.invalidAction, "the action name is empty") }
        for field in fields {
            if field.name.isEmpty { throw AMIError(.invalidAction, "an action key is empty", detail: name) }
            try Self.validate(key: "a key of \(name)", value: field.name)
            if field.name.utf8.contains(.colon) || field.name.utf8.contains(.space) {
                throw AMIError(.invalidAction, "an action key holds ':' or a space", detail: "\(name) key \(field.name)")
            }
            if field.name.caseInsensitiveEquals("ActionID") {
                throw AMIError(.invalidAction, "ActionID is set by the client, not as a field", detail: name)
            }
            try Self.validate(key: field.name, value: field.value)
        }
    }

    static func validate(key: String, value: String) throws {
        for byte in value.utf8 where byte == .cr || byte == .lf || byte == 0 {
            let what = byte == 0 ? "NUL" : (byte == .cr ? "CR" : "LF")
            // The key is named, the value never: it may be a secret or a caller's phone number.
            throw AMIError(.forbiddenCharacter, "\(what) is not allowed in an AMI action", detail: "key \(key)")
        }
    }

    /// Validates, then writes the action with its `ActionID` as AMI text (CRLF lines, empty line last).
    public func encode(actionID: String, into buffer: inout ByteBuffer) throws {
        try validate()
        try Self.validate(key: "ActionID", value: actionID)
        buffer.writeString("Action: ")
        buffer.writeString(name)
        buffer.writeString("\r\n")
        for field in fields {
            buffer.writeString(field.name)
            buffer.writeString(": ")
            buffer.writeString(field.value)
            buffer.writeString("\r\n")
        }
        buffer.writeString("ActionID: ")
        buffer.writeString(actionID)
        buffer.writeString("\r\n\r\n")
    }

    /// Field names whose values never appear in logs or descriptions.
    static let secretFieldNames = ["secret", "key"]

    public var description: String {
        let shown = fields.map { field in
            Self.secretFieldNames.contains(field.name.lowercased()) ? "\(field.name): <redacted>" : "\(field.name): \(field.value)"
        }
        return "Action: \(name)" + (shown.isEmpty ? "" : "; " + shown.joined(separator: "; "))
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count && zip(utf8, other.utf8).allSatisfy { asciiLowercased($0) == asciiLowercased($1) }
    }
}
