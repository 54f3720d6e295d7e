import AMIProtocol
import AMITestSupport
import DialerSimulator
import NIOCore
import Testing

/// Field for field, the generated events have the headers (names and order) of the ones a real
/// Asterisk 20 wrote in the recorded SIP sessions.
@Suite struct CaptureShapeTests {
    static func messages(_ text: String) throws -> [AMIMessage] {
        var decoder = AMIFrameDecoder()
        var buffer = ByteBuffer(string: text)
        var messages: [AMIMessage] = []
        while let frame = try decoder.decode(buffer: &buffer) {
            if case .message(let message) = frame { messages.append(message) }
        }
        return messages
    }

    /// An event's shape: its header names in order, and whether it names a dial's caller.
    static func shape(_ message: AMIMessage) -> [String] { message.fields.map(\.name) }

    /// The first event of each kind (a DialBegin with and without a calling channel apart).
    static func firstOfEachKind(_ messages: [AMIMessage]) -> [String: [String]] {
        var shapes: [String: [String]] = [:]
        for message in messages {
            guard var name = message.eventName else { continue }
            if name.hasPrefix("Dial"), message["Channel"] == nil { name += " (originated leg)" }
            if name == "VarSet" { name += " \(message["Variable"] ?? "")" }
            if shapes[name] == nil { shapes[name] = shape(message) }
        }
        return shapes
    }

    @Test("answered, busy and no-answer click-to-calls: each kind of event has the recorded header names in the recorded order")
    func sameHeadersAsTheCaptures() throws {
        let cases: [(capture: String, outcome: SimulatedOutcome)] = [
            ("sip-originate-vicidial-callercode", .answered), ("sip-originate-customer-busy", .customerBusy),
            ("sip-originate-customer-noanswer", .customerNoAnswer),
        ]
        for (name, outcome) in cases {
            let capture = try AMICapture.load("asterisk-20", name)
            let recorded = Self.firstOfEachKind(try Self.messages(String(decoding: capture.receivedBytes, as: UTF8.self)))
            var planner = TrafficPlanner(configuration: .init())
            let request = OriginateRequest(actionID: "sip-1", channel: "SIP/1001", context: "customers-sip", exten: "18005554242",
                                           variables: [.init("CRM_CALL_ID", "c2c-1")])
            let call = planner.call(for: request, agent: SimulatedAgent(user: "agent001", phoneExtension: "1001"),
                                    callerID: ("M5251411420000004242", "3125551212"), at: 1_795_618_109, outcome: outcome)
            var generator = CallScriptGenerator()
            let generated = Self.firstOfEachKind(try Self.messages(generator.script(for: call).events.map(\.text).joined()))
            // Every kind the recording has for this outcome is generated (RTCP reports aside).
            let kinds = Set(recorded.keys).subtracting(["RTCPSent", "RTCPReceived", "FullyBooted"])
            #expect(kinds.subtracting(generated.keys).isEmpty, "\(name): not generated: \(kinds.subtracting(generated.keys).sorted())")
            for kind in kinds.sorted() {
                guard let mine = generated[kind] else { continue }
                #expect(mine == recorded[kind], "\(name): \(kind)")
            }
        }
    }
}
