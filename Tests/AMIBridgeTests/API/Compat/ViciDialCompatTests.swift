@testable import AMIBridge
import AMIProtocol
import AMITestSupport
@testable import EventMapper
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import ViciDial
import ViciDialTestSupport

/// `/agc/api.php` as scripts written against ViciDial's agent API use it. Every answer is read
/// with PHP's own `parse_str` (php-cli, installed by scripts/test.sh), as those scripts do.
@Suite("ViciDial API compatibility (/agc/api.php)")
struct ViciDialCompatTests {
    /// What `parse_str($body, $out)` gives, from the real PHP.
    static func phpParse(_ body: String) throws -> [String: String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["php", "-r", "parse_str(stream_get_contents(STDIN), $o); echo json_encode($o);"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(body.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "php -r parse_str failed; is php-cli installed (scripts/test.sh installs it)?")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: String], "parse_str output: \(String(decoding: data, as: UTF8.self))")
    }

    static func query(_ pairs: [(String, String)]) -> String { FormEncoding.encode(pairs) }

    @Test("values with &, =, +, %, spaces and UTF-8 come back from PHP's parse_str exactly")
    func parseStrRoundTrip() throws {
        let fields = [("status", "SUCCESS"), ("message", "a&b=c + 100% café\tok"), ("empty", "")]
        let parsed = try Self.phpParse(FormEncoding.encode(fields))
        #expect(parsed == Dictionary(uniqueKeysWithValues: fields))
        #expect(FormEncoding.decode("a=1&b=x+y%21&c").map { "\($0.name)=\($0.value)" } == ["a=1", "b=x y!", "c="])
    }

    @Test("click2call by agent_user: ViciDial's phone is dialed and the answer parses as SUCCESS with the call id")
    func clickToCall() async throws {
        let driver = try ViciDialTestDriver()
        let user = ViciDialTestDriver.user()
        let phoneLogin = "p" + String(user.dropFirst())
        try await driver.insertUser(user, phoneLogin: phoneLogin)
        try await driver.insertPhone(login: phoneLogin, extension: "cc\(user.suffix(4))")
        let repository = try ViciDialTestDriver.repository()

        try await FakeAMIServer.withServer(behavior: FakeAMIServer.queuingOriginates()) { server in
            try await ClickToCallHarness.with(amiPort: server.port, vicidial: ClickToCallService.agentPhoneLookup(repository)) { harness, client in
                let uri = "/agc/api.php?" + Self.query([
                    ("function", "click2call"), ("user", "crmscript"), ("api_key", harness.key.text), ("agent_user", user),
                    ("phone_number", "8005551234"), ("campaign_id", "SALES"), ("list_id", "101"), ("caller_id_number", "3125551212"),
                ])
                let (status, body) = try await client.execute(uri: uri, method: .get) { ($0.status, String(buffer: $0.body)) }
                #expect(status == .ok)
                let answer = try Self.phpParse(body)
                #expect(answer["status"] == "SUCCESS")
                #expect(answer["result"] == "click2call")
                let callID = try #require(answer["call_id"])
                #expect(harness.registry.status(callID)?.agentUser == user)

                _ = try await harness.service.servers[0].send(.ping)
                let originate = try #require(ClickToCallRequestTests.originates(server).first)
                #expect(originate["Channel"] == "SIP/cc\(user.suffix(4))")
                #expect(originate["Exten"] == "8005551234")
                #expect(originate["CallerID"]?.hasSuffix("<3125551212>") == true)

                // The same call as JSON, with format=json and the key given as pass (POST form body).
                let form = Self.query([("function", "click2call"), ("user", "crmscript"), ("pass", harness.key.text), ("agent_user", user),
                                       ("phone_number", "8005551234"), ("format", "json")])
                let json = try await client.execute(uri: "/agc/api.php", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                    body: ByteBuffer(string: form)) { try JSONSerialization.jsonObject(with: Data($0.body.readableBytesView)) as? [String: String] }
                #expect(json?["status"] == "SUCCESS")
                #expect(json?["call_id"] != callID)
            }
        }
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var pairs: [(String, String)]
        var code: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = {
        let call: [(String, String)] = [("function", "click2call"), ("user", "x"), ("api_key", "KEY"), ("agent_user", "a1")]
        return [
            Refusal(name: "bad key", pairs: [("function", "click2call"), ("user", "x"), ("api_key", "amib_nope_nope"), ("agent_user", "a1"), ("phone_number", "8005551234")], code: "unauthorized"),
            Refusal(name: "no user", pairs: [("function", "click2call"), ("api_key", "KEY"), ("agent_user", "a1"), ("phone_number", "8005551234")], code: "unauthorized"),
            Refusal(name: "CR/LF in the number", pairs: call + [("phone_number", "800555\r\nAction: Hangup")], code: "invalid_request"),
            Refusal(name: "letters in the number", pairs: call + [("phone_number", "1800CALLNOW")], code: "invalid_request"),
            Refusal(name: "unknown agent", pairs: [("function", "click2call"), ("user", "x"), ("api_key", "KEY"), ("agent_user", "ghost"), ("phone_number", "8005551234")], code: "unknown_agent"),
            Refusal(name: "unknown function", pairs: [("function", "external_hangup"), ("user", "x"), ("api_key", "KEY")], code: "invalid_function"),
        ]
    }()

    @Test("refusals answer status=ERROR with a code, and nothing is dialed", arguments: refusals)
    func refused(_ refusal: Refusal) async throws {
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.queuingOriginates()) { server in
            try await ClickToCallHarness.with(amiPort: server.port, vicidial: { _ in nil }) { harness, client in
                let uri = "/agc/api.php?" + Self.query(refusal.pairs.map { ($0.0, $0.1 == "KEY" ? harness.key.text : $0.1) })
                let (status, body) = try await client.execute(uri: uri, method: .get) { ($0.status, String(buffer: $0.body)) }
                #expect(status == .ok, "ViciDial answers errors with 200 and the text")
                let answer = try Self.phpParse(body)
                #expect(answer["status"] == "ERROR")
                #expect(answer["result"] == refusal.code)
                #expect(answer["message"]?.isEmpty == false)
                _ = try await harness.service.servers[0].send(.ping)
                #expect(ClickToCallRequestTests.originates(server).isEmpty)
            }
        }
    }

    @Test("get_agent_status gives status, calls_today and talk_time; add_lead returns the new lead_id; version answers")
    func agentStatusAndLead() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let user = ViciDialTestDriver.user()
        try await test.driver.insertUser(user)
        try await test.driver.loginAgent(user, status: "PAUSED", campaign: "SALES")
        let now = Int(Date().timeIntervalSince1970)
        try await test.driver.insertAgentLog(user: user, leadID: 7, campaign: "SALES", uniqueid: "1.2", talkEpoch: now, talkSeconds: 130, deadSeconds: 10)

        let status = try Self.phpParse(try await test.request("/agc/api.php?" + Self.query([
            ("function", "get_agent_status"), ("user", "x"), ("api_key", test.key), ("agent_user", user),
        ]), authorized: false).text)
        // status is the agent's state, as the tutorial's PHP prints it.
        #expect(status["status"] == "PAUSED")
        #expect(status["agent_status"] == "PAUSED")
        #expect(status["calls_today"] == "1")
        #expect(status["talk_time"] == "120")

        let phone = TestDatabase.uniquePhoneNumber()
        let added = try Self.phpParse(try await test.request("/agc/api.php?" + Self.query([
            ("function", "add_lead"), ("user", "x"), ("api_key", test.key), ("phone_number", phone), ("list_id", "101"),
            ("first_name", "Zoë & Co"), ("source", "script"),
        ]), authorized: false).text)
        #expect(added["status"] == "SUCCESS")
        let leadID = try #require(added["lead_id"].flatMap { Int64($0) })
        let row = try await test.driver.root.query("SELECT phone_number, first_name, list_id FROM vicidial_list WHERE lead_id = ?", [.int(leadID)])
        let stored = try #require(row.first)
        #expect(try stored.string("phone_number") == phone)
        #expect(try stored.string("first_name") == "Zoë & Co")

        let invalid = try Self.phpParse(try await test.request("/agc/api.php?" + Self.query([
            ("function", "add_lead"), ("user", "x"), ("api_key", test.key), ("phone_number", "12ab"), ("list_id", "101"),
        ]), authorized: false).text)
        #expect(invalid["status"] == "ERROR")
        #expect(invalid["result"] == "invalid_lead")

        let version = try Self.phpParse(try await test.request("/agc/api.php?" + Self.query([("function", "version"), ("user", "x"), ("api_key", test.key)]), authorized: false).text)
        #expect(version["status"] == "SUCCESS")
        #expect(version["version"]?.hasPrefix("amibridge") == true)
    }
}
