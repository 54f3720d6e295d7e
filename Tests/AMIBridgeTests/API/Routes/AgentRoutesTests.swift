@testable import AMIBridge
import Foundation
import MariaDB
import Testing
import ViciDial
import ViciDialTestSupport

/// `GET /v1/agents/{user}` through the router, over the private MariaDB.
@Suite struct AgentRoutesTests {
    @Test func aLoggedInAgentsLiveStateAndTodaysTotals() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let user = ViciDialTestDriver.user()
        try await test.driver.insertUser(user, fullName: "Grace Hopper")
        try await test.driver.loginAgent(user, status: "INCALL", campaign: "SALES", leadID: 42, callsToday: 5,
                                         lastStateChange: "2026-01-15 14:32:00", extension: "SIP/2001")
        let now = Int(Date().timeIntervalSince1970)
        try await test.driver.insertAgentLog(user: user, leadID: 42, campaign: "SALES", uniqueid: "1.1", talkEpoch: now, talkSeconds: 95, deadSeconds: 5)

        let answer = try await test.request("/v1/agents/\(user)")
        #expect(answer.status == .ok)
        let body = answer.json
        #expect(body["user"] as? String == user)
        #expect(body["full_name"] as? String == "Grace Hopper")
        #expect(body["status"] as? String == "INCALL")
        #expect(body["logged_in"] as? Bool == true)
        #expect(body["campaign_id"] as? String == "SALES")
        #expect(body["lead_id"] as? Int == 42)
        #expect(body["pause_code"] is NSNull)
        #expect(body["calls_today"] as? Int == 5)
        #expect(body["last_state_change"] as? String == "2026-01-15 14:32:00")
        #expect(body["server_ip"] as? String == "10.0.0.1")
        #expect(body["phone"] as? String == "SIP/2001")
        let today = body["today"] as? [String: Any]
        #expect(today?["calls"] as? Int == 1)
        #expect(today?["talk_seconds"] as? Int == 90)
        #expect((today?["date"] as? String)?.count == 10)
    }

    @Test func aKnownUserWhoIsNotLoggedInIsLoggedOutWithEveryKeyPresent() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let user = ViciDialTestDriver.user()
        try await test.driver.insertUser(user)
        let answer = try await test.request("/v1/agents/\(user)")
        #expect(answer.status == .ok)
        let body = answer.json
        #expect(body["status"] as? String == "LOGGED_OUT")
        #expect(body["logged_in"] as? Bool == false)
        for key in ["campaign_id", "lead_id", "pause_code", "calls_today", "last_state_change", "server_ip", "phone"] {
            #expect(body[key] is NSNull, "\(key) should be null")
        }
        #expect((body["today"] as? [String: Any])?["calls"] as? Int == 0)
    }

    @Test func anUnknownUserIs404() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        // Every allowed character, so this is a lookup that found nothing, not a refusal.
        let answer = try await test.request("/v1/agents/no.body_-\(Int.random(in: 1000...9999))@x")
        #expect(answer.status == .notFound)
        #expect(answer.errorCode == "not_found")
    }

    @Test("names ViciDial cannot have are 400", arguments: [
        "a%20b", "a;b", "agent%0D%0A", "agent%27", String(repeating: "a", count: 21), "%C3%A9mile", "a%2Fb",
    ])
    func invalidUser(user: String) async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let answer = try await test.request("/v1/agents/\(user)")
        #expect(answer.status == .badRequest)
        #expect(answer.errorCode == "invalid_request")
    }
}
