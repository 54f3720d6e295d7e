@testable import AMIBridge
import AMIProtocol
import AMITestSupport
import EventMapper
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import ViciDial

/// Requests `POST /v1/calls` must refuse: each gets its status and error code, and Asterisk never
/// sees an Originate for it.
@Suite("Click-to-call refusals and idempotency")
struct ClickToCallRequestTests {
    static func originates(_ server: FakeAMIServer) -> [AMIMessage] {
        server.receivedActions.flatMap { $0 }.filter { $0["Action"] == "Originate" }
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var body: String
        var status: HTTPResponse.Status
        var code: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "letters in the number", body: #"{"agent_phone":"SIP/1001","phone_number":"1800CALLNOW"}"#, status: .badRequest, code: "invalid_request"),
        Refusal(name: "CR/LF in the number", body: #"{"agent_phone":"SIP/1001","phone_number":"18005551234\r\nAction: Hangup"}"#, status: .badRequest, code: "invalid_request"),
        Refusal(name: "too few digits", body: #"{"agent_phone":"SIP/1001","phone_number":"12345"}"#, status: .badRequest, code: "invalid_request"),
        Refusal(name: "CR/LF in the agent phone", body: #"{"agent_phone":"SIP/1001\r\nChannel: DAHDI/1","phone_number":"18005551234"}"#, status: .badRequest, code: "invalid_request"),
        Refusal(name: "CR/LF in the agent user", body: #"{"agent_user":"agent\r\n1","phone_number":"18005551234"}"#, status: .badRequest, code: "invalid_request"),
        Refusal(name: "CR/LF in a variable", body: #"{"agent_phone":"SIP/1001","phone_number":"18005551234","variables":{"X":"a\r\nAction: Hangup"}}"#, status: .badRequest, code: "invalid_request"),
        Refusal(name: "the reserved call id variable", body: #"{"agent_phone":"SIP/1001","phone_number":"18005551234","variables":{"CRM_CALL_ID":"mine"}}"#, status: .badRequest, code: "invalid_request"),
        // Asterisk splits a `Variable:` header at commas (quotes and backslashes group and escape):
        // a comma would smuggle in a second variable, the reserved call id among them.
        Refusal(name: "a comma in a variable's value", body: #"{"agent_phone":"SIP/1001","phone_number":"18005551234","variables":{"ORDER":"A,CRM_CALL_ID=x"}}"#, status: .badRequest, code: "invalid_request"),
        Refusal(name: "a double quote in a variable's value", body: #"{"agent_phone":"SIP/1001","phone_number":"18005551234","variables":{"ORDER":"\"A\""}}"#, status: .badRequest, code: "invalid_request"),
        Refusal(name: "a backslash in a variable's value", body: #"{"agent_phone":"SIP/1001","phone_number":"18005551234","variables":{"ORDER":"A\\B"}}"#, status: .badRequest, code: "invalid_request"),
        Refusal(name: "quotes in the caller ID", body: #"{"agent_phone":"SIP/1001","phone_number":"18005551234","caller_id":"\"x\" <1>"}"#, status: .badRequest, code: "invalid_request"),
        Refusal(name: "both agent_user and agent_phone", body: #"{"agent_user":"a1","agent_phone":"SIP/1001","phone_number":"18005551234"}"#, status: .badRequest, code: "invalid_request"),
        Refusal(name: "no agent", body: #"{"phone_number":"18005551234"}"#, status: .badRequest, code: "invalid_request"),
        Refusal(name: "invalid JSON", body: #"{"agent_phone": "SIP/1001", "phone_number": "#, status: .badRequest, code: "invalid_json"),
        Refusal(name: "a JSON array", body: #"["SIP/1001"]"#, status: .badRequest, code: "invalid_json"),
        Refusal(name: "an unknown agent", body: #"{"agent_user":"ghost","phone_number":"18005551234"}"#, status: .notFound, code: "unknown_agent"),
    ]

    @Test("a bad request gets its status and no Originate is sent", arguments: refusals)
    func refused(_ refusal: Refusal) async throws {
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.queuingOriginates()) { server in
            try await ClickToCallHarness.with(amiPort: server.port, vicidial: { _ in nil }) { harness, client in
                let (status, body, _) = try await harness.post(client, refusal.body)
                #expect(status == refusal.status)
                #expect((body["error"] as? [String: Any])?["code"] as? String == refusal.code)
                // A Ping round trip after the request: anything the request wrote is in by now.
                _ = try? await harness.service.servers[0].send(.ping)
                #expect(Self.originates(server).isEmpty)
                #expect(harness.registry.count == 0)
            }
        }
    }

    @Test("no key, a revoked key, a foreign Origin, a 10 MB body, the 101st request: refused, nothing dialed")
    func refusedBeforeValidation() async throws {
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.queuingOriginates()) { server in
            try await ClickToCallHarness.with(amiPort: server.port, api: { $0.corsOrigins = ["https://crm.example.com"] }) { harness, client in
                let valid = ByteBuffer(string: #"{"agent_phone":"SIP/1001","phone_number":"18005551234"}"#)
                let json: HTTPFields = [.contentType: "application/json"]
                #expect(try await client.execute(uri: "/v1/calls", method: .post, headers: json, body: valid) { $0.status } == .unauthorized)

                let revoked = try harness.environment.store.create(name: "old")
                #expect(try harness.environment.store.revoke(id: revoked.id))
                #expect(try await client.execute(uri: "/v1/calls", method: .post, headers: APITestEnvironment.bearer(revoked.text), body: valid) { $0.status } == .unauthorized)

                var foreign = harness.authorization
                foreign[.origin] = "https://evil.example.net"
                #expect(try await client.execute(uri: "/v1/calls", method: .post, headers: foreign, body: valid) { $0.status } == .forbidden)

                let huge = ByteBuffer(repeating: UInt8(ascii: " "), count: 10 << 20)
                #expect(try await client.execute(uri: "/v1/calls", method: .post, headers: harness.authorization, body: huge) { $0.status } == .contentTooLarge)

                // The refusals above came before the key was counted: spend its 100 requests on
                // lookups, then the 101st would dial.
                for _ in 0..<100 {
                    _ = try await client.execute(uri: "/v1/calls/none", method: .get, headers: harness.authorization) { $0.status }
                }
                try await client.execute(uri: "/v1/calls", method: .post, headers: harness.authorization, body: valid) { response in
                    #expect(response.status == .tooManyRequests)
                    #expect(response.headers[.retryAfter] != nil)
                }
                _ = try? await harness.service.servers[0].send(.ping)
                #expect(Self.originates(server).isEmpty)
            }
        }
    }

    @Test("the same Idempotency-Key returns the same call and dials once; a different body with it is 409")
    func idempotency() async throws {
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.queuingOriginates()) { server in
            try await ClickToCallHarness.with(amiPort: server.port) { harness, client in
                let body = #"{"agent_phone":"SIP/1001","phone_number":"1 (800) 555-1234"}"#
                let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "order-42"]
                let (first, firstBody, firstHeaders) = try await harness.post(client, body, headers: key)
                let (second, secondBody, secondHeaders) = try await harness.post(client, body, headers: key)
                #expect(first == .accepted)
                #expect(second == .accepted)
                let callID = try #require(firstBody["call_id"] as? String)
                #expect(secondBody["call_id"] as? String == callID)
                #expect(firstHeaders[HTTPField.Name("Idempotent-Replayed")!] == nil)
                #expect(secondHeaders[HTTPField.Name("Idempotent-Replayed")!] == "true")
                #expect(firstBody["phone_number"] as? String == "18005551234")

                let (conflict, conflictBody, _) = try await harness.post(client, #"{"agent_phone":"SIP/1001","phone_number":"18005559999"}"#, headers: key)
                #expect(conflict == .conflict)
                #expect((conflictBody["error"] as? [String: Any])?["code"] as? String == "idempotency_key_reused")

                // Without a key, the same body is a new call.
                let (_, thirdBody, _) = try await harness.post(client, body)
                #expect(thirdBody["call_id"] as? String != callID)
                _ = try await harness.service.servers[0].send(.ping)
                #expect(Self.originates(server).count == 2)
            }
        }
    }

    @Test("an agent user is dialed on the phone ViciDial gives it, with the lead's M caller code")
    func agentUserAndLead() async throws {
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.queuingOriginates()) { server in
            let lookUp: ClickToCallService.AgentPhoneLookup = { user in
                user == "agent7" ? .init(channel: "SIP/cc107", serverIP: nil) : nil
            }
            try await ClickToCallHarness.with(amiPort: server.port, vicidial: lookUp, configure: { $0.dialPrefix = "9"; $0.callerID = "3125551212" }) { harness, client in
                let (status, body, _) = try await harness.post(client, #"{"agent_user":"agent7","phone_number":"+1 800 555 4242","lead_id":4242,"campaign_id":"SALES","variables":{"ORDER":"A-17"}}"#)
                #expect(status == .accepted)
                #expect(body["agent_user"] as? String == "agent7")
                #expect(body["lead_id"] as? Int == 4242)
                _ = try await harness.service.servers[0].send(.ping)
                let originate = try #require(Self.originates(server).first)
                #expect(originate["Channel"] == "SIP/cc107")
                #expect(originate["Exten"] == "918005554242")
                #expect(originate.values(for: "Variable").contains("ORDER=A-17"))
                let callerID = try #require(originate["CallerID"])
                #expect(callerID.hasSuffix(" <3125551212>"))
                let name = String(callerID.dropFirst().prefix { $0 != "\"" })
                let code = try #require(ViciDialCallerCode(name))
                #expect(code.type == "M")
                #expect(code.leadID == 4242)
            }
        }
    }

    @Test("while AMI is down a call is 503 and a retry with the same key dials once it is back")
    func amiDown() async throws {
        // Nothing listens on this server's port once it has stopped.
        let port = try await FakeAMIServer.withServer(behavior: FakeAMIServer.queuingOriginates()) { $0.port }
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.queuingOriginates()) { server in
            try await ClickToCallHarness.with(amiPort: server.port) { harness, client in
                let down = ClickToCallService(
                    configuration: harness.service.configuration, registry: harness.registry, tracking: harness.service.tracking,
                    servers: [AMIClient(configuration: .init(name: "dialer2", host: "127.0.0.1", port: port, session: .init(username: "b", secret: "s")), events: AMIEventStream(capacity: 10))],
                    lookUpAgentPhone: nil, logger: harness.service.logger
                )
                let request = try ClickToCallRequest(ClickToCallRequestBody(agent_phone: "SIP/1001", phone_number: "18005551234"))
                await #expect(throws: APIError.self) { try await down.place(request, idempotencyKey: "k1") }
                #expect(harness.registry.count == 0)
                // The key was released: the same request on a live server places the call.
                let (call, created) = try await harness.service.place(request, idempotencyKey: "k1")
                #expect(created)
                #expect(call.status == .queued)
            }
        }
    }
}
