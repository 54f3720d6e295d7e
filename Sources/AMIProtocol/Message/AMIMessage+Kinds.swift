/// Accessors for the keys every AMI message kind is recognised by.
extension AMIMessage {
    /// `Event:` value for events and event-list items.
    public var eventName: String? { self["Event"] }

    /// `Response:` value (`Success`, `Error`, `Follows`, `Goodbye`) of an action response; nil
    /// for events, even those with a `Response` field of their own (`OriginateResponse`).
    public var response: String? { isResponse ? self["Response"] : nil }

    /// Whether this message answers an action: its first field is `Response`.
    public var isResponse: Bool { firstFieldName(is: "Response") }

    /// The `ActionID` that ties a response, a list item or an `OriginateResponse` to its action.
    public var actionID: String? { self["ActionID"] }

    /// Whether this message is an event or list item: its first field is `Event`. (An
    /// `OriginateResponse` event carries a `Response` field too; the first field decides.)
    public var isEvent: Bool { firstFieldName(is: "Event") }

    /// Whether this is an event (its first field is `Event`) called `name`, case-insensitively;
    /// read from the bytes, without making a string.
    public func isEvent(named name: String) -> Bool {
        var name = name
        return name.withUTF8 { expected in
            withEventNameBytes { $0?.equalsCaseInsensitive(expected) ?? false }
        }
    }

    /// Calls `body` with the bytes of the `Event` value when the first field is `Event` (an event
    /// or list item), else with nil. The bytes are valid only inside `body`.
    func withEventNameBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>?) throws -> Result) rethrows -> Result {
        try withFields { spans, bytes in
            guard let first = spans.first, ("Event" as StaticString).withUTF8Buffer({ Self.nameMatches(first, key: $0, bytes) })
            else { return try body(nil) }
            return try body(UnsafeBufferPointer(rebasing: bytes[Int(first.valueStart)..<Int(first.valueEnd)]))
        }
    }

    /// Whether this is a response that reports success. `Follows` is Asterisk 11-13's successful
    /// `Command` response; `Goodbye` answers `Logoff`.
    public var isSuccessResponse: Bool {
        guard let response = response?.lowercased() else { return false }
        return response == "success" || response == "follows" || response == "goodbye"
    }

    /// `EventList:` value (`start` on a list's response, `Complete` on its last event).
    public var eventList: String? { self["EventList"] }

    /// The lines of `Command` output: `Output:` fields on Asterisk 14+, and the raw body of
    /// Asterisk 11-13's `Response: Follows` form, which the decoder turns into the same fields.
    public var outputLines: [String] { values(for: "Output") }
}
