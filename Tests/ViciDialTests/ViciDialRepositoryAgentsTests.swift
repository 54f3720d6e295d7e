@testable import EventMapper
import Foundation
@testable import MariaDB
import Testing
@testable import ViciDial
import ViciDialTestSupport

/// Agent status and phone lookups against the real MariaDB, rows written as ViciDial writes them.
@Suite struct ViciDialRepositoryAgentsTests {
    let driver: ViciDialTestDriver
    init() throws { driver = try ViciDialTestDriver() }

    var now: Int { Int(Date().timeIntervalSince1970) }

    @Test func aLoggedInAgentHasTheLiveRowAndTodaysTotalsOnly() async throws {
        let user = ViciDialTestDriver.user()
        try await driver.insertUser(user, fullName: "Grace Hopper")
        try await driver.loginAgent(user, status: "PAUSED", campaign: "SALES", leadID: 42, pauseCode: "LUNCH", callsToday: 7,
                                    lastStateChange: "2026-01-15 14:32:00", extension: "SIP/2001")
        try await driver.insertAgentLog(user: user, leadID: 41, campaign: "SALES", uniqueid: "1.1", talkEpoch: now, talkSeconds: 100, deadSeconds: 10)
        try await driver.insertAgentLog(user: user, leadID: 42, campaign: "SALES", uniqueid: "1.2", talkEpoch: now, talkSeconds: 30, deadSeconds: 0)
        // Dead time longer than talk (an agent who never hung up) counts as no talk, not as negative talk.
        try await driver.insertAgentLog(user: user, leadID: 43, campaign: "SALES", uniqueid: "1.3", talkEpoch: now, talkSeconds: 5, deadSeconds: 20)
        // Three days ago: not today.
        try await driver.insertAgentLog(user: user, leadID: 44, campaign: "SALES", uniqueid: "1.4", talkEpoch: now - 3 * 86_400, talkSeconds: 500, deadSeconds: 0)

        let status = try #require(try await ViciDialTestDriver.repository().agentStatus(user: user.uppercased()))
        #expect(status.user == user)
        #expect(status.fullName == "Grace Hopper")
        #expect(status.status == "PAUSED")
        #expect(status.live?.campaignID == "SALES")
        #expect(status.live?.leadID == 42)
        #expect(status.live?.pauseCode == "LUNCH")
        #expect(status.live?.callsToday == 7)
        #expect(status.live?.lastStateChange == "2026-01-15 14:32:00")
        #expect(status.live?.phoneChannel == "SIP/2001")
        #expect(status.callsToday == 3)
        #expect(status.talkSecondsToday == 120)
        let today = try await driver.root.query("SELECT CURDATE() AS d").first?.string("d")
        #expect(status.today == today)
    }

    @Test func aKnownUserWhoIsNotLoggedInIsLoggedOut() async throws {
        let user = ViciDialTestDriver.user()
        try await driver.insertUser(user)
        let status = try #require(try await ViciDialTestDriver.repository().agentStatus(user: user))
        #expect(status.status == ViciDialAgentStatus.loggedOut)
        #expect(status.live == nil)
        #expect(status.callsToday == 0 && status.talkSecondsToday == 0)
    }

    @Test func aReadyAgentWithoutLeadOrPauseCodeHasThemNil() async throws {
        let user = ViciDialTestDriver.user()
        // Live without a vicidial_users row still counts as known.
        try await driver.loginAgent(user)
        let status = try #require(try await ViciDialTestDriver.repository().agentStatus(user: user))
        #expect(status.status == "READY")
        #expect(status.fullName == nil)
        #expect(status.live?.leadID == nil)
        #expect(status.live?.pauseCode == nil)
    }

    @Test func anUnknownUserIsNil() async throws {
        #expect(try await ViciDialTestDriver.repository().agentStatus(user: ViciDialTestDriver.user()) == nil)
    }

    @Test func theAgentsPhoneComesFromPhoneLoginThroughPhones() async throws {
        let user = ViciDialTestDriver.user()
        let login = "p" + user.dropFirst()
        try await driver.insertUser(user, phoneLogin: login)
        try await driver.insertPhone(login: login, extension: String(user.dropFirst()), protocol: "PJSIP", serverIP: "10.0.0.7")
        let phone = try #require(try await ViciDialTestDriver.repository().agentPhone(user: user))
        #expect(phone == AgentPhone(user: user, phoneLogin: login, channel: "PJSIP/\(user.dropFirst())", serverIP: "10.0.0.7",
                                    phoneProtocol: "PJSIP", phoneExtension: String(user.dropFirst()), dialplanNumber: nil))
    }

    @Test func anExternalPhoneIsALocalChannelToItsNumber() async throws {
        let user = ViciDialTestDriver.user()
        let login = "p" + user.dropFirst()
        try await driver.insertUser(user, phoneLogin: login)
        try await driver.insertPhone(login: login, extension: "ext" + user.dropFirst(), protocol: "EXTERNAL", dialplanNumber: "915551234567")
        let phone = try #require(try await ViciDialTestDriver.repository().agentPhone(user: user))
        #expect(phone.channel == "Local/915551234567@default")
        #expect(phone.serverIP == "10.0.0.1")
    }

    @Test func noPhoneWithoutUserLoginOrActivePhone() async throws {
        let repository = try ViciDialTestDriver.repository()
        #expect(try await repository.agentPhone(user: ViciDialTestDriver.user()) == nil)

        let withoutLogin = ViciDialTestDriver.user()
        try await driver.insertUser(withoutLogin)
        #expect(try await repository.agentPhone(user: withoutLogin) == nil)

        let withoutPhone = ViciDialTestDriver.user()
        try await driver.insertUser(withoutPhone, phoneLogin: "p" + withoutPhone.dropFirst())
        #expect(try await repository.agentPhone(user: withoutPhone) == nil)

        let inactive = ViciDialTestDriver.user()
        try await driver.insertUser(inactive, phoneLogin: "p" + inactive.dropFirst())
        try await driver.insertPhone(login: "p" + inactive.dropFirst(), extension: String(inactive.dropFirst()), active: "N")
        #expect(try await repository.agentPhone(user: inactive) == nil)
    }
}
