@testable import AMIProtocol
import NIOCore
import Testing

/// What an action becomes on the wire, and what it must never become: every key and value is
/// checked before a byte is written (AMI header injection), and secrets stay out of descriptions.
@Suite("AMI action encoding")
struct AMIActionEncodingTests {
    // MARK: - Wire bytes

    @Test("Action first, fields in order with repeated keys kept, ActionID last, CRLF lines, blank line")
    func wireBytes() throws {
        let action = AMIAction("Originate", [
            ("Channel", "PJSIP/100"), ("Variable", "b=2"), ("Context", "from-internal"), ("Variable", "a=1"),
        ])
        #expect(try encoded(action, actionID: "42") ==
            "Action: Originate\r\nChannel: PJSIP/100\r\nVariable: b=2\r\nContext: from-internal\r\nVariable: a=1\r\nActionID: 42\r\n\r\n")
    }

    @Test("an action without fields is its name and its ActionID")
    func noFields() throws {
        #expect(try encoded(.ping, actionID: "p1") == "Action: Ping\r\nActionID: p1\r\n\r\n")
        #expect(try encoded(.logoff, actionID: "bye") == "Action: Logoff\r\nActionID: bye\r\n\r\n")
    }

    @Test("encode appends after what the buffer already holds")
    func appends() throws {
        var buffer = ByteBuffer(string: "Action: Ping\r\nActionID: p1\r\n\r\n")
        try AMIAction.logoff.encode(actionID: "p2", into: &buffer)
        #expect(String(buffer: buffer) == "Action: Ping\r\nActionID: p1\r\n\r\nAction: Logoff\r\nActionID: p2\r\n\r\n")
    }

    @Test("values are written as UTF-8, colons and spaces in values kept")
    func valueBytes() throws {
        let action = AMIAction("Setvar", [("Variable", "CALLERNAME"), ("Value", "Müller: Büro 2")])
        var buffer = ByteBuffer()
        try action.encode(actionID: "v1", into: &buffer)
        #expect(buffer.readableBytesView.elementsEqual(Array("Action: Setvar\r\nVariable: CALLERNAME\r\nValue: Müller: Büro 2\r\nActionID: v1\r\n\r\n".utf8)))
    }

    @Test("the common actions are spelled the way Asterisk expects")
    func commonActions() throws {
        #expect(try encoded(.login(username: "bridge", secret: "s3cret-AMI"), actionID: "l1") ==
            "Action: Login\r\nUsername: bridge\r\nSecret: s3cret-AMI\r\nActionID: l1\r\n\r\n")
        #expect(try encoded(.challenge, actionID: "c1") == "Action: Challenge\r\nAuthType: MD5\r\nActionID: c1\r\n\r\n")
        #expect(try encoded(.events(mask: "system,call"), actionID: "e1") == "Action: Events\r\nEventMask: system,call\r\nActionID: e1\r\n\r\n")
        #expect(try encoded(.filter(add: "Event: Hangup"), actionID: "f1") ==
            "Action: Filter\r\nOperation: Add\r\nFilter: Event: Hangup\r\nActionID: f1\r\n\r\n")
        #expect(try encoded(.hangup(channel: "PJSIP/100-00000001", cause: 16), actionID: "h1") ==
            "Action: Hangup\r\nChannel: PJSIP/100-00000001\r\nCause: 16\r\nActionID: h1\r\n\r\n")
        #expect(try encoded(.command("core show version"), actionID: "k1") ==
            "Action: Command\r\nCommand: core show version\r\nActionID: k1\r\n\r\n")
    }

    // MARK: - Originate and MD5 login

    @Test("originate: Async true, Timeout in milliseconds, one Variable line each in the given order")
    func originate() throws {
        let action = AMIAction.originate(
            channel: "PJSIP/100", context: "from-internal", exten: "200", priority: 2,
            timeout: .seconds(30), callerID: "Bridge <100>", variables: [("LEAD_ID", "77"), ("CAMPAIGN", "sales")]
        )
        #expect(try encoded(action, actionID: "o1") == """
            Action: Originate\r
            Channel: PJSIP/100\r
            Context: from-internal\r
            Exten: 200\r
            Priority: 2\r
            Async: true\r
            Timeout: 30000\r
            CallerID: Bridge <100>\r
            Variable: LEAD_ID=77\r
            Variable: CAMPAIGN=sales\r
            ActionID: o1\r
            \r

            """)
    }

    @Test("originate timeouts become whole milliseconds", arguments: [
        (Duration.milliseconds(1500), "1500"), (.seconds(45), "45000"), (.milliseconds(250), "250"),
    ])
    func originateTimeout(timeout: Duration, milliseconds: String) {
        let action = AMIAction.originate(channel: "PJSIP/100", context: "from-internal", exten: "200", timeout: timeout)
        #expect(action.fields.filter { $0.name == "Timeout" }.map(\.value) == [milliseconds])
    }

    @Test("originate without timeout, caller ID or variables leaves those lines out")
    func originateMinimal() {
        let action = AMIAction.originate(channel: "PJSIP/100", context: "from-internal", exten: "200")
        #expect(action.fields.map(\.name) == ["Channel", "Context", "Exten", "Priority", "Async"])
        #expect(action.fields.map(\.value) == ["PJSIP/100", "from-internal", "200", "1", "true"])
    }

    @Test("md5Login's Key is md5(challenge + secret) in lowercase hex")
    func md5LoginKey() throws {
        // Captured from a real Asterisk login.
        let action = AMIAction.md5Login(username: "bridge", secret: "s3cret-AMI", challenge: "581367186")
        #expect(try encoded(action, actionID: "l2") ==
            "Action: Login\r\nAuthType: MD5\r\nUsername: bridge\r\nKey: a69367ec11f57e5a9248a5aa1c23cd7b\r\nActionID: l2\r\n\r\n")
    }

    @Test("md5Login keeps leading zeros of each digest byte")
    func md5LoginLeadingZeros() {
        // md5("") = d41d8cd98f00b204e9800998ecf8427e: its bytes 0x00 and 0x04 need their leading zero.
        let action = AMIAction.md5Login(username: "bridge", secret: "", challenge: "")
        #expect(action.fields.last == AMIField(name: "Key", value: "d41d8cd98f00b204e9800998ecf8427e"))
    }

    // MARK: - Injection

    @Test("CR, LF, CRLF or NUL anywhere is refused before a byte is written, and the value is not echoed", arguments: [
        "\r", "\n", "\r\n", "\0",
    ], Placement.allCases)
    func injection(separator: String, placement: Placement) throws {
        // Colon- and space-free, so it is refused for its control character even as a key.
        let payload = "zq7-private\(separator)Injected-Header"
        let (action, actionID) = placement.place(payload)

        var buffer = ByteBuffer()
        let error = try #require(throws: AMIError.self) { try action.encode(actionID: actionID, into: &buffer) }
        #expect(error.code == .forbiddenCharacter)
        #expect(buffer.readableBytes == 0, "wrote \(String(buffer: buffer).debugDescription) before throwing")
        if placement != .actionID {
            // validate() alone, used before queuing, refuses it too.
            #expect(throws: AMIError.self) { try action.validate() }
        }

        // Not even a bad key is echoed: the description goes to the log, control characters and all.
        #expect(!error.description.contains("zq7-private"))
    }

    @Test("a refused action leaves a non-empty buffer exactly as it was")
    func refusedActionLeavesBufferAlone() {
        var buffer = ByteBuffer(string: "Action: Ping\r\nActionID: p1\r\n\r\n")
        let before = buffer
        let action = AMIAction("Originate", [("Channel", "PJSIP/100"), ("Context", "from-internal"), ("Exten", "200\r\nAction: Hangup")])
        #expect(throws: AMIError.self) { try action.encode(actionID: "o1", into: &buffer) }
        #expect(buffer == before)
    }

    @Test("a header-shaped injection in a key is refused as forbiddenCharacter, not echoed, nothing written")
    func headerShapedKeyInjection() throws {
        // It also holds a colon and a space: the injection is what it must be refused for.
        let action = AMIAction("Setvar", [("Variable\r\nAction: Originate", "x")])
        var buffer = ByteBuffer()
        let error = try #require(throws: AMIError.self) { try action.encode(actionID: "s1", into: &buffer) }
        #expect(buffer.readableBytes == 0)
        #expect(error.code == .forbiddenCharacter)
        #expect(!error.description.contains("Action: Originate"))
    }

    // MARK: - Malformed actions

    @Test("malformed actions are refused as invalidAction with nothing written", arguments: [
        AMIAction("", [("Channel", "PJSIP/100")]),
        AMIAction("Hangup", [("", "PJSIP/100")]),
        AMIAction("Hangup", [("Chan:nel", "PJSIP/100")]),
        AMIAction("Hangup", [("Channel", "PJSIP/100"), ("ActionID", "mine")]),
        AMIAction("Hangup", [("actionid", "mine")]),
        AMIAction("Hangup", [("ACTIONID", "mine")]),
    ])
    func invalidAction(action: AMIAction) throws {
        var buffer = ByteBuffer()
        let error = try #require(throws: AMIError.self) { try action.encode(actionID: "a1", into: &buffer) }
        #expect(error.code == .invalidAction)
        #expect(buffer.readableBytes == 0)
    }

    // MARK: - Description

    @Test("descriptions redact Secret and Key values, whatever their case")
    func redaction() {
        let plain = AMIAction.login(username: "bridge", secret: "s3cret-AMI").description
        #expect(!plain.contains("s3cret-AMI"))
        #expect(plain.contains("Username: bridge"))
        #expect(plain.contains("Secret: <redacted>"))

        let md5 = AMIAction.md5Login(username: "bridge", secret: "s3cret-AMI", challenge: "581367186").description
        #expect(!md5.contains("a69367ec11f57e5a9248a5aa1c23cd7b"))
        #expect(!md5.contains("s3cret-AMI"))
        #expect(md5.contains("Username: bridge"))

        let shouting = AMIAction("Login", [("USERNAME", "bridge"), ("SECRET", "s3cret-AMI"), ("kEy", "a69367ec")]).description
        #expect(!shouting.contains("s3cret-AMI"))
        #expect(!shouting.contains("a69367ec"))
    }

    @Test("descriptions show the other fields in order")
    func descriptionShowsFields() {
        #expect(AMIAction.hangup(channel: "PJSIP/100-00000001", cause: 16).description.contains("Channel: PJSIP/100-00000001; Cause: 16"))
        #expect(AMIAction.ping.description.contains("Ping"))
    }
}

extension AMIActionEncodingTests {
    /// Where an injected control character goes.
    enum Placement: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case firstValue, lastValue, key, name, actionID

        var testDescription: String { rawValue }

        /// A valid `Originate` with `payload` in this place, and the ActionID to send it with.
        func place(_ payload: String) -> (AMIAction, String) {
            var action = AMIAction("Originate", [("Channel", "PJSIP/100"), ("Context", "from-internal"), ("Exten", "200")])
            var actionID = "o1"
            switch self {
            case .firstValue: action.fields[0].value = payload
            // Last, so an encoder writing field by field would already have written the others.
            case .lastValue: action.fields.append(AMIField(name: "Variable", value: payload))
            case .key: action.fields.append(AMIField(name: payload, value: "1"))
            case .name: action.name = payload
            case .actionID: actionID = payload
            }
            return (action, actionID)
        }
    }
}

private func encoded(_ action: AMIAction, actionID: String) throws -> String {
    var buffer = ByteBuffer()
    try action.encode(actionID: actionID, into: &buffer)
    return String(buffer: buffer)
}
