@testable import AMIBridge
import AMITestSupport
import EventMapper
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import ViciDial

/// `Docs/openapi.json` against what the code does: the served bytes, the router's routes, its
/// references, the patterns the validators enforce, and real answers checked against its schemas.
@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    static let repositoryFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Docs/openapi.json")

    static func repositoryBytes() throws -> Data { try Data(contentsOf: repositoryFile) }

    static func document() throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(OpenAPIDocument.text.utf8))
    }

    static let operationMethods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    // MARK: - (a) the served document is the repository's

    @Test("GET /openapi.json serves Docs/openapi.json byte for byte, as JSON, without a key")
    func served() async throws {
        let file = try Self.repositoryBytes()
        #expect(Data(OpenAPIDocument.text.utf8) == file, """
            Sources/AMIBridge/API/OpenAPIDocument.swift differs from Docs/openapi.json\
            \(Self.firstDifference(Data(OpenAPIDocument.text.utf8), file)): paste the file between its delimiters
            """)
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        try await environment.application().test(.router) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                #expect(Data(response.body.readableBytesView) == file)
            }
        }
        let document = try Self.document()
        #expect(document["openapi"]?.string?.hasPrefix("3.") == true)
        #expect(document["info"]?["title"]?.string == "amibridge")
        #expect(document["info"]?["version"]?.string?.isEmpty == false)
    }

    @Test("/openapi.json is behind the IP allowlist, like /healthz")
    func ipAllowlist() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let range = try #require(IPAddressRange("192.0.2.0/24"))
        let application = environment.application { $0.ipAllowlist = [range] }
        try await application.test(.live) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .forbidden)
                #expect(APIErrorBody.decode(response.body)?.error.code == "forbidden")
            }
        }
    }

    // MARK: - (b) documented operations are the routed ones

    /// `GET /v1/calls/{id}` for every route the router has; captures keep their name, which is
    /// OpenAPI's syntax too. Wildcards have no OpenAPI form and fail the test.
    static func routedOperations() throws -> Set<String> {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let server = APIServer(configuration: APIConfiguration(), keyStore: environment.store)
        return Set(server.makeRouter().routes.map { route in
            let segments = route.path.components.map { element -> String in
                let text = element.description
                #expect(!text.contains("*") && text != "!", "\(route): a wildcard route cannot be documented in OpenAPI")
                return text
            }
            return "\(route.method.rawValue) /\(segments.joined(separator: "/"))"
        })
    }

    static func documentedOperations(_ document: JSONValue) -> Set<String> {
        var operations: Set<String> = []
        for (path, item) in document["paths"]?.object ?? [:] {
            for method in (item.object ?? [:]).keys where operationMethods.contains(method) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    @Test("every route is documented and every documented operation is routed")
    func operationsMatchRoutes() throws {
        let routed = try Self.routedOperations()
        let documented = Self.documentedOperations(try Self.document())
        #expect(routed.count >= 12)
        #expect(routed.subtracting(documented).sorted() == [], "routed but not in Docs/openapi.json")
        #expect(documented.subtracting(routed).sorted() == [], "in Docs/openapi.json but not routed")
    }

    @Test("each path's {parameters} are declared as path parameters, and operation ids are unique")
    func pathParameters() throws {
        let document = try Self.document()
        var operationIDs: [String] = []
        for (path, item) in document["paths"]?.object ?? [:] {
            let captures = Set(path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
            for (method, operation) in item.object ?? [:] where Self.operationMethods.contains(method) {
                let parameters = ((item["parameters"]?.array ?? []) + (operation["parameters"]?.array ?? [])).map { Self.resolve($0, in: document) }
                let declared = Set(parameters.filter { $0["in"]?.string == "path" }.compactMap { $0["name"]?.string })
                #expect(declared == captures, "\(method.uppercased()) \(path)")
                #expect(operation["responses"]?.object?.isEmpty == false, "\(method.uppercased()) \(path) has no responses")
                operationIDs.append(operation["operationId"]?.string ?? "")
            }
        }
        #expect(!operationIDs.contains(""))
        #expect(Set(operationIDs).count == operationIDs.count)
    }

    // MARK: - (c) references

    @Test("every $ref points at something in the document")
    func referencesResolve() throws {
        let document = try Self.document()
        var references: [String] = []
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let object):
                if case .string(let reference)? = object["$ref"] { references.append(reference) }
                object.values.forEach(collect)
            case .array(let array):
                array.forEach(collect)
            default:
                break
            }
        }
        collect(document)
        #expect(references.count > 20)
        for reference in Set(references) {
            #expect(Self.pointer(reference, in: document) != nil, "\(reference) does not resolve")
        }
    }

    // MARK: - patterns agree with the validators

    static func pattern(_ path: [String], in document: JSONValue) -> String {
        var value: JSONValue? = document
        for key in path { value = value.map { resolve($0, in: document) }?[key] }
        return value?.string ?? "<no pattern at \(path.joined(separator: "."))>"
    }

    /// The documented pattern accepts exactly what the code's check accepts, on every sample.
    static func expectAgreement(_ path: [String], _ samples: [String], in document: JSONValue, code: (String) -> Bool) {
        let pattern = pattern(path, in: document)
        for sample in samples {
            #expect(matches(pattern, sample) == code(sample), "\(path.joined(separator: ".")) \(pattern) on \(sample.debugDescription)")
        }
    }

    @Test("documented patterns accept and refuse what the code does")
    func patternsAgree() throws {
        let document = try Self.document()
        let phones = ["18005551234", "+1 (800) 555-1234", "1.800.555.1234", "1234567", "123456789012345", "123456", "1234567890123456",
                      "+", "++18005551234", "1+8005551234", "1800CALLNOW", "18005551234\r\n", "  (800)555 1234 ", "", "+-1234567"]
        Self.expectAgreement(["components", "schemas", "PhoneNumberInput", "pattern"], phones, in: document) { PhoneNumber($0) != nil }

        let users = ["agent_001", "a.b-c@d", "x", String(repeating: "a", count: 20), String(repeating: "a", count: 21), "", "a b", "a;b", "émile", "a/b", "agent\r\n1"]
        Self.expectAgreement(["components", "schemas", "ViciDialUser", "pattern"], users, in: document) { (try? AgentRoutes.validatedUser($0)) != nil }
        Self.expectAgreement(["components", "schemas", "ClickToCallRequest", "properties", "agent_user", "allOf", "0", "pattern"], users, in: document) {
            AMIName.isValid($0, maximumLength: 20)
        }
        Self.expectAgreement(["components", "schemas", "ClickToCallRequest", "properties", "campaign_id", "pattern"], users, in: document) {
            AMIName.isValid($0, maximumLength: 20)
        }

        let agentPhones = ["SIP/1001", "PJSIP/agent7", "Local/1001@agents/n", "1001", "ext_1.a-b", String(repeating: "1", count: 40), String(repeating: "1", count: 41),
                           "SIP/", "/1001", "SIP/1001\r\nChannel: DAHDI/1", "SIP-X/1001", "SIP/10 01", ""]
        Self.expectAgreement(["components", "schemas", "ClickToCallRequest", "properties", "agent_phone", "pattern"], agentPhones, in: document) {
            AgentChannel.isValid($0) || AgentChannel.isExtension($0)
        }

        let callerIDs = ["3125551212", "+3125551212", "12", "1", String(repeating: "1", count: 20), String(repeating: "1", count: 21), "\"x\" <1>", "+", "12a"]
        Self.expectAgreement(["components", "schemas", "ClickToCallRequest", "properties", "caller_id", "pattern"], callerIDs, in: document) {
            CallerIDNumber.isValid($0)
        }

        let uniqueids = ["1768487520.123", "vici1-1768487520.123", "a_b", String(repeating: "1", count: 40), String(repeating: "1", count: 41), "", "1.1/2", "1 2", "1.1@x"]
        Self.expectAgreement(["components", "parameters", "Uniqueid", "schema", "pattern"], uniqueids, in: document) {
            AMIName.isValid($0, maximumLength: 40, punctuation: "._-")
        }

        let keys = ["order-42", "!~", String(repeating: "k", count: 255), String(repeating: "k", count: 256), "a b", "", "é", "tab\there"]
        Self.expectAgreement(["components", "parameters", "IdempotencyKey", "schema", "pattern"], keys, in: document) {
            (try? CallRoutes.idempotencyKey($0)) != nil
        }

        // `since`: the pattern is the shape; impossible dates and times pass it and get a 400.
        let since = Self.pattern(["components", "parameters", "Since", "schema", "pattern"], in: document)
        for valid in ["2026-01-15", "2026-01-15T14:32", "2026-01-15 14:32:05", "2026-01-15t14:32:05.123456789", "2026-01-15T14:32:05,5Z",
                      "2026-01-15T14:32:05+02:00", "2026-01-15T14:32-0530", "2026-01-15T14:32:05+02"] {
            #expect(ViciDialTimeBound(iso8601: valid) != nil, "\(valid)")
            #expect(Self.matches(since, valid), "since pattern refuses \(valid)")
        }
        for invalid in ["2026-1-15", "20260115", "2026-01-15T14", "2026-01-15T14:32:05.", "2026-01-15T14:32:05.1234567890", "2026-01-15T14:32+2", "yesterday"] {
            #expect(ViciDialTimeBound(iso8601: invalid) == nil, "\(invalid)")
            #expect(!Self.matches(since, invalid), "since pattern accepts \(invalid)")
        }
    }

    @Test("documented enums are the code's")
    func enums() throws {
        let document = try Self.document()
        let schemas = document["components"]?["schemas"]
        #expect(schemas?["CallStatus"]?["enum"]?.array?.compactMap(\.string) == ClickToCallStage.allCases.map(\.rawValue))
        let reasons = Set(schemas?["FailureReason"]?["enum"]?.array?.compactMap(\.string) ?? [])
        let outcomes: [CallOutcome] = [.agentBusy, .agentNoAnswer, .customerBusy, .customerNoAnswer, .congestion, .originateError, .notDialed]
        #expect(reasons == Set(outcomes.map(\.rawValue) + ["timeout"]))
        let leadFields = Set(schemas?["Lead"]?["properties"]?.object?.keys.map { $0 } ?? [])
        #expect(leadFields == Set(ViciDialNewLead.fieldNames))
        #expect(Set(schemas?["Lead"]?["required"]?.array?.compactMap(\.string) ?? []) == Set(ViciDialNewLead.requiredFieldNames))
        #expect(document["paths"]?["/v1/leads"]?["post"]?["requestBody"]?["content"]?["application/json"]?["schema"]?["maxItems"]?.number == String(LeadRoutes.maximumRows))
        let limit = document["components"]?["parameters"]?["Limit"]?["schema"]
        #expect(limit?["maximum"]?.number == String(RecordingRoutes.maximumLimit))
        #expect(limit?["default"]?.number == String(RecordingRoutes.defaultLimit))
    }

    // MARK: - (d) real answers match their documented schemas

    /// Checks `body` against the schema the document gives `method path` for `status`.
    static func expectDocumented(_ method: String, _ path: String, _ status: HTTPResponse.Status, body: ByteBuffer, headers: HTTPFields = [:],
                                 in document: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let operation = document["paths"]?[path]?[method.lowercased()],
              let response = operation["responses"]?[String(status.code)].map({ resolve($0, in: document) })
        else {
            Issue.record("\(method) \(path) does not document \(status.code)", sourceLocation: sourceLocation)
            return
        }
        for (name, _) in response["headers"]?.object ?? [:] where name != "Idempotent-Replayed" {
            #expect(headers[HTTPField.Name(name)!] != nil, "\(method) \(path) \(status.code): header \(name) missing", sourceLocation: sourceLocation)
        }
        guard let schema = response["content"]?["application/json"]?["schema"] else {
            Issue.record("\(method) \(path) \(status.code) has no JSON schema", sourceLocation: sourceLocation)
            return
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))
        } catch {
            Issue.record("\(method) \(path) \(status.code): the body is not JSON: \(String(buffer: body))", sourceLocation: sourceLocation)
            return
        }
        let problems = SchemaCheck(document: document).problems(value, schema, at: "body")
        #expect(problems == [], "\(method) \(path) \(status.code): \(String(buffer: body))", sourceLocation: sourceLocation)
    }

    @Test("probes, ping and refusals answer as documented")
    func probesAndRefusals() async throws {
        let document = try Self.document()
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let key = try environment.store.create(name: "crm")
        let checks: [ReadinessCheck] = [(name: "ami:dialer1", check: { .notReady(reason: "not logged in") }), (name: "state_dir", check: { .ready })]
        try await environment.application({ $0.rateLimitPerMinute = 3 }, checks: checks).test(.router) { client in
            for (path, status) in [("/healthz", HTTPResponse.Status.ok), ("/readyz", .serviceUnavailable)] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == status)
                    Self.expectDocumented("GET", path, response.status, body: response.body, headers: response.headers, in: document)
                }
            }
            try await client.execute(uri: "/v1/ping", method: .get, headers: APITestEnvironment.bearer(key.text)) { response in
                #expect(response.status == .ok)
                Self.expectDocumented("GET", "/v1/ping", response.status, body: response.body, headers: response.headers, in: document)
            }
            try await client.execute(uri: "/v1/calls", method: .post, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .unauthorized)
                Self.expectDocumented("POST", "/v1/calls", response.status, body: response.body, headers: response.headers, in: document)
            }
            // No AMI server: click-to-call is 503; no database: the ViciDial routes are 503.
            try await client.execute(uri: "/v1/calls", method: .post, headers: APITestEnvironment.bearer(key.text), body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .serviceUnavailable)
                Self.expectDocumented("POST", "/v1/calls", response.status, body: response.body, headers: response.headers, in: document)
            }
            try await client.execute(uri: "/v1/leads", method: .post, headers: APITestEnvironment.bearer(key.text), body: ByteBuffer(string: "[]")) { response in
                #expect(response.status == .serviceUnavailable)
                Self.expectDocumented("POST", "/v1/leads", response.status, body: response.body, headers: response.headers, in: document)
            }
            // The key's fourth request within the minute.
            try await client.execute(uri: "/v1/recordings?phone_number=8005551234", method: .get, headers: APITestEnvironment.bearer(key.text)) { response in
                #expect(response.status == .tooManyRequests)
                Self.expectDocumented("GET", "/v1/recordings", response.status, body: response.body, headers: response.headers, in: document)
            }
        }
    }

    /// Recorded Asterisk 20 sessions that end by themselves, so every answer comes without a
    /// deadline on an AMI round trip: one answered (every field filled), one failed with a reason.
    @Test("a click-to-call's answers match ClickToCallStatus and the error schema at every step",
          arguments: ["originate-answered", "originate-customer-busy"])
    func clickToCall(captureName: String) async throws {
        let document = try Self.document()
        let capture = try AMICapture.load("asterisk-20", captureName)
        let originate = try ClickToCallOutcomeTests.recordedOriginate(capture)
        let channel = try #require(originate["Channel"])
        let number = try #require(originate["Exten"])
        let context = try #require(originate["Context"])
        try await FakeAMIServer.withServer(behavior: CaptureReplay(capture, chunking: .recorded).behavior) { server in
            try await ClickToCallHarness.with(amiPort: server.port, configure: { $0.context = context }) { harness, client in
                var headers = harness.authorization
                headers[.contentType] = "application/json"
                func check(_ method: HTTPRequest.Method, _ uri: String, body: String? = nil, expecting status: HTTPResponse.Status, as path: String) async throws -> JSONValue? {
                    try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
                        #expect(response.status == status, "\(method) \(uri): \(String(buffer: response.body))")
                        Self.expectDocumented(method.rawValue, path, response.status, body: response.body, headers: response.headers, in: document)
                        return try? JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView))
                    }
                }
                _ = try await check(.post, "/v1/calls", body: #"{"agent_phone":"\#(channel)","phone_number":"12345"}"#, expecting: .badRequest, as: "/v1/calls")
                let placed = try await check(.post, "/v1/calls", body: #"{"agent_phone":"\#(channel)","phone_number":"\#(number)","lead_id":42,"variables":{"ORDER":"A-17"}}"#,
                                             expecting: .accepted, as: "/v1/calls")
                let callID = try #require(placed?["call_id"]?.string)
                try await harness.ended(callID)
                // Ended: what the tracker learnt is filled in, and a DELETE is a 409.
                let call = try await check(.get, "/v1/calls/\(callID)", expecting: .ok, as: "/v1/calls/{id}")
                #expect(call?["status"]?.string == (captureName == "originate-answered" ? "completed" : "failed"))
                #expect(call?["ended_at"]?.string != nil && call?["uniqueid"]?.string != nil)
                _ = try await check(.delete, "/v1/calls/\(callID)", expecting: .conflict, as: "/v1/calls/{id}")
                _ = try await check(.get, "/v1/calls/no-such-call", expecting: .notFound, as: "/v1/calls/{id}")
            }
        }
    }

    // MARK: - Helpers

    /// A `#/...` JSON pointer into `document`.
    static func pointer(_ reference: String, in document: JSONValue) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var value: JSONValue? = document
        for token in reference.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            value = value?[token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
        }
        return value
    }

    /// The object a `{"$ref": ...}` stands for; anything else as it is.
    static func resolve(_ value: JSONValue, in document: JSONValue) -> JSONValue {
        guard case .string(let reference)? = value["$ref"], let target = pointer(reference, in: document) else { return value }
        return resolve(target, in: document)
    }

    /// Whether `pattern` matches all of `text`, as an ECMA-262 `pattern` does: ICU's `$` also
    /// matches before a final newline, so the match must cover the whole text.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: pattern) else {
            Issue.record("not a regular expression: \(pattern)")
            return false
        }
        let whole = NSRange(text.startIndex..., in: text)
        return regex.firstMatch(in: text, range: whole).map { $0.range == whole } ?? false
    }

    static func firstDifference(_ a: Data, _ b: Data) -> String {
        guard let index = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset ?? (a.count == b.count ? nil : min(a.count, b.count)) else { return "" }
        return " from byte \(index) (line \(b.prefix(index).filter { $0 == UInt8(ascii: "\n") }.count + 1) of the file)"
    }
}

/// The JSON Schema keywords the document uses, enough to check an answer against it: `$ref`,
/// `type` (one or a list), `enum`, `const`, `required`, `properties`, `additionalProperties`,
/// `propertyNames`, `items`, `allOf`, `anyOf`, `oneOf`, `pattern`, `minimum`/`maximum`.
struct SchemaCheck {
    var document: JSONValue

    func problems(_ value: JSONValue, _ schema: JSONValue, at path: String) -> [String] {
        var found: [String] = []
        if case .string(let reference)? = schema["$ref"] {
            guard let target = OpenAPIDocumentTests.pointer(reference, in: document) else { return ["\(path): \(reference) does not resolve"] }
            found += problems(value, target, at: path)
        }
        if let types = schema["type"].map({ $0.array?.compactMap(\.string) ?? [$0.string ?? ""] }), !types.contains(where: { Self.hasType(value, $0) }) {
            return found + ["\(path): \(value) is not \(types.joined(separator: " or "))"]
        }
        if let choices = schema["enum"]?.array, !choices.contains(value) { found.append("\(path): \(value) is not one of \(choices)") }
        if let constant = schema["const"], constant != value { found.append("\(path): \(value) is not \(constant)") }
        if case .string(let text) = value, let pattern = schema["pattern"]?.string, !OpenAPIDocumentTests.matches(pattern, text) {
            found.append("\(path): \(text.debugDescription) does not match \(pattern)")
        }
        if case .number(let text) = value, let number = Double(text) {
            if let minimum = schema["minimum"]?.number.flatMap(Double.init), number < minimum { found.append("\(path): \(text) < \(minimum)") }
            if let maximum = schema["maximum"]?.number.flatMap(Double.init), number > maximum { found.append("\(path): \(text) > \(maximum)") }
        }
        if case .object(let object) = value {
            for name in schema["required"]?.array?.compactMap(\.string) ?? [] where object[name] == nil {
                found.append("\(path): \(name) is missing")
            }
            let properties = schema["properties"]?.object ?? [:]
            for (name, member) in object.sorted(by: { $0.key < $1.key }) {
                if let propertyNames = schema["propertyNames"] { found += problems(.string(name), propertyNames, at: "\(path) key \(name)") }
                if let property = properties[name] {
                    found += problems(member, property, at: "\(path).\(name)")
                } else if let additional = schema["additionalProperties"] {
                    if additional == .bool(false) {
                        found.append("\(path).\(name) is not documented")
                    } else if case .object = additional {
                        found += problems(member, additional, at: "\(path).\(name)")
                    }
                }
            }
        }
        if case .array(let elements) = value, let items = schema["items"] {
            for (index, element) in elements.enumerated() { found += problems(element, items, at: "\(path)[\(index)]") }
        }
        for part in schema["allOf"]?.array ?? [] { found += problems(value, part, at: path) }
        if let options = schema["anyOf"]?.array, !options.contains(where: { problems(value, $0, at: path).isEmpty }) {
            found.append("\(path): \(value) matches none of anyOf")
        }
        if let options = schema["oneOf"]?.array, options.filter({ problems(value, $0, at: path).isEmpty }).count != 1 {
            found.append("\(path): \(value) does not match exactly one of oneOf")
        }
        return found
    }

    static func hasType(_ value: JSONValue, _ type: String) -> Bool {
        switch (value, type) {
        case (.null, "null"), (.bool, "boolean"), (.string, "string"), (.array, "array"), (.object, "object"), (.number, "number"): true
        case (.number(let text), "integer"): !text.contains(where: { ".eE".contains($0) })
        default: false
        }
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        switch self {
        case .object(let object): object[key]
        case .array(let array): Int(key).flatMap { array.indices.contains($0) ? array[$0] : nil }
        default: nil
        }
    }

    var string: String? { if case .string(let text) = self { text } else { nil } }
    var number: String? { if case .number(let text) = self { text } else { nil } }
    var array: [JSONValue]? { if case .array(let array) = self { array } else { nil } }
    var object: [String: JSONValue]? { if case .object(let object) = self { object } else { nil } }
}
