@testable import EventMapper
import Foundation
import MariaDB
import NIOConcurrencyHelpers
import Testing
@testable import ViciDial
import ViciDialTestSupport

/// `findAnswerData` against the real MariaDB: one statement for every answered call, and what it
/// finds for each (agent and lead from the live agent row or the log row, nothing for a call
/// ViciDial does not know).
@Suite struct AnswerDataLookupTests {
    /// Counts the statements that reach the database.
    final class CountingDatabase: ViciDialDatabase {
        let inner: any ViciDialDatabase
        let statements = NIOLockedValueBox(0)
        init(_ inner: any ViciDialDatabase) { self.inner = inner }
        func query(_ sql: String, _ parameters: [MariaDBValue]) async throws -> [MariaDBRow] {
            statements.withLockedValue { $0 += 1 }
            return try await inner.query(sql, parameters)
        }
        func withConnection<Result: Sendable>(_ body: @escaping @Sendable (MariaDBConnection) throws -> Result) async throws -> Result {
            try await inner.withConnection(body)
        }
    }

    @Test func oneStatementFindsTheAgentAndLeadOfEveryAnsweredCall() async throws {
        let driver = try ViciDialTestDriver()
        let t = ViciDialTestDriver.epoch()
        let campaign = ViciDialTestDriver.campaign()
        // A manual dial with its INCALL row; an auto-dial (VDAD row) whose agent is live; a call
        // ViciDial knows nothing of.
        let manualLead = try await driver.insertLead()
        let manual = ViciDialTestDriver.uniqueid(t)
        try await driver.answerOutbound(uniqueid: manual, leadID: manualLead, campaign: campaign, user: "agent41", status: "INCALL", at: t)
        let autoLead = try await driver.insertLead(firstName: "Emmy")
        let auto = ViciDialTestDriver.uniqueid(t)
        try await driver.answerOutbound(uniqueid: auto, leadID: autoLead, campaign: campaign, at: t)
        try await driver.agentOnCall(user: "agent42", leadID: autoLead, campaign: campaign, uniqueid: auto, callerCode: "")
        let queuedLead = try await driver.insertLead()
        let queued = ViciDialTestDriver.uniqueid(t)
        try await driver.answerOutbound(uniqueid: queued, leadID: queuedLead, campaign: campaign, at: t)

        let calls = [
            TestCalls.call(uniqueids: [manual], start: t, server: "a"),
            TestCalls.call(uniqueids: [auto], start: t, server: "b"),
            TestCalls.call(uniqueids: [queued], start: t, server: "c"),
            TestCalls.call(uniqueids: [ViciDialTestDriver.uniqueid(t)], start: t, server: "d"),
        ]
        let database = CountingDatabase(try ViciDialTestDriver.repository().database)
        let found = try await ViciDialRepository(database: database).findAnswerData(for: calls)
        #expect(database.statements.withLockedValue { $0 } == 1)
        let keys = calls.map(CallKey.init)
        #expect(found[keys[0]]?.agentUser == "agent41")
        #expect(found[keys[0]]?.leadID == manualLead)
        #expect(found[keys[0]]?.isComplete == true)
        #expect(found[keys[1]]?.agentUser == "agent42")
        #expect(found[keys[1]]?.firstName == "Emmy")
        #expect(found[keys[1]]?.campaignID == campaign)
        // Not taken by an agent yet: the lead, and no agent (VDAD is none), so it keeps waiting.
        #expect(found[keys[2]]?.leadID == queuedLead)
        #expect(found[keys[2]]?.agentUser == nil)
        #expect(found[keys[2]]?.isComplete == false)
        #expect(found[keys[3]] == nil)
    }
}
