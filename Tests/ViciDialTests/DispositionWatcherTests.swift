@testable import EventMapper
@testable import MariaDB
import Testing
@testable import ViciDial
import ViciDialTestSupport

@Suite struct DispositionWatcherTests {
    let driver: ViciDialTestDriver
    init() throws { driver = try ViciDialTestDriver() }

    /// An answered outbound call as the enricher hands it on: row read while the agent talks.
    func answeredCall(campaign: String, user: String, at t: Int) async throws -> (EnrichedCall, lead: Int64) {
        let lead = try await driver.insertLead(comments: "Customer interested in premium plan")
        let uniqueid = ViciDialTestDriver.uniqueid(t)
        try await driver.answerOutbound(uniqueid: uniqueid, leadID: lead, campaign: campaign, user: user, status: "INCALL", at: t)
        let call = TestCalls.call(uniqueids: [uniqueid], start: t, end: t + 60, callerCode: TestCalls.callerCode(leadID: lead))
        let rows = try await ViciDialTestDriver.repository().findCallRows(for: [call])
        let row = try #require(rows[CallKey(call)])
        return (EnrichedCall(call: call, vicidial: row), lead)
    }

    @Test func theFinalDispositionIsEmittedOnceWithTheCampaignsFlags() async throws {
        let t = ViciDialTestDriver.epoch()
        let campaign = ViciDialTestDriver.campaign()
        try await driver.defineSystemStatus(status: "SALE", sale: false, category: "SYSTEMSALE")
        try await driver.defineCampaignStatus(campaign: campaign, status: "SALE", sale: true, category: "CAMPSALE")
        let (call, lead) = try await answeredCall(campaign: campaign, user: "agent5", at: t)
        let watcher = DispositionWatcher(repository: try ViciDialTestDriver.repository(), configuration: .init(pollInterval: 5, maximumWait: 600))
        #expect(await watcher.watch(call, at: Double(t + 60)).isEmpty)

        #expect(await watcher.poll(at: Double(t + 65)).isEmpty)  // INCALL
        try await driver.hangUpOutbound(uniqueid: call.call.uniqueids[0], at: t + 60)
        #expect(await watcher.poll(at: Double(t + 70)).isEmpty)  // DISPO: the agent screen is open
        try await driver.dispose(leadID: lead, user: "agent5", status: "SALE", comments: "Customer interested in premium plan")
        #expect(await watcher.poll(at: Double(t + 72)).isEmpty)  // not due
        let outcomes = await watcher.poll(at: Double(t + 75))
        #expect(outcomes.count == 1)
        guard case .dispositionSet(let set) = outcomes.first else { Issue.record("expected a disposition, got \(outcomes)"); return }
        #expect(set.call == call)
        #expect(set.status == "SALE")
        #expect(set.user == "agent5")
        #expect(set.leadComments == "Customer interested in premium plan")
        #expect(set.flags?.sale == true)
        #expect(set.flags?.campaignID == campaign)
        #expect(set.flags?.category == "CAMPSALE")
        // Exactly once: nothing is watched any more, later polls emit nothing.
        #expect(await watcher.waitingCount == 0)
        #expect(await watcher.poll(at: Double(t + 80)).isEmpty)
        #expect(await watcher.statistics.dispositionsSet == 1)
    }

    @Test func inboundDispositionsUseTheSystemStatusWhenTheCampaignHasNone() async throws {
        let t = ViciDialTestDriver.epoch()
        let status = ViciDialTestDriver.status()
        try await driver.defineSystemStatus(status: status, dnc: true, category: "DONOTCALL")
        let lead = try await driver.insertLead()
        let uniqueid = ViciDialTestDriver.uniqueid(t)
        let closeCallID = try await driver.answerInbound(uniqueid: uniqueid, leadID: lead, ingroup: "SUPPORT", user: "agent2", at: t)
        var data = ViciDialCallData(rowID: .inbound(closeCallID: closeCallID), uniqueid: uniqueid, leadID: lead)
        data.status = "INCALL"
        let call = EnrichedCall(call: TestCalls.call(uniqueids: [uniqueid], start: t), vicidial: data)
        let watcher = DispositionWatcher(repository: try ViciDialTestDriver.repository(), configuration: .init(pollInterval: 1))
        _ = await watcher.watch(call, at: 0)
        try await driver.hangUpInbound(closeCallID: closeCallID, at: t + 30)
        #expect(await watcher.poll(at: 1).isEmpty)
        try await driver.disposeInbound(closeCallID: closeCallID, status: status)
        let outcomes = await watcher.poll(at: 2)
        guard case .dispositionSet(let set) = outcomes.first else { Issue.record("expected a disposition, got \(outcomes)"); return }
        #expect(set.status == status)
        #expect(set.flags?.campaignID == nil)
        #expect(set.flags?.dnc == true)
        #expect(set.flags?.sale == false)
        #expect(set.flags?.category == "DONOTCALL")
    }

    @Test func aCallStuckInTheDispositionScreenIsGivenUpAfterTheWait() async throws {
        let t = ViciDialTestDriver.epoch()
        let (call, _) = try await answeredCall(campaign: ViciDialTestDriver.campaign(), user: "agent6", at: t)
        try await driver.hangUpOutbound(uniqueid: call.call.uniqueids[0], at: t + 60)
        let watcher = DispositionWatcher(repository: try ViciDialTestDriver.repository(), configuration: .init(pollInterval: 60, maximumWait: 1800))
        _ = await watcher.watch(call, at: 0)
        var outcomes: [DispositionQueue.Outcome] = []
        var time = 60.0
        while outcomes.isEmpty, time <= 3600 {
            outcomes = await watcher.poll(at: time)
            time += 60
        }
        #expect(time - 60 == 1800)
        #expect(outcomes == [.gaveUp(call, reason: .timedOut, lastStatus: "DISPO")])
        #expect(await watcher.statistics.timedOut == 1)
    }

    @Test func onePollIsOneQueryForFiftyWaitingCalls() async throws {
        let t = ViciDialTestDriver.epoch()
        let campaign = ViciDialTestDriver.campaign()
        var calls: [(EnrichedCall, Int64)] = []
        for index in 0..<50 {
            if index % 2 == 0 {
                calls.append(try await answeredCall(campaign: campaign, user: "agent\(index)", at: t + index))
            } else {
                let lead = try await driver.insertLead()
                let uniqueid = ViciDialTestDriver.uniqueid(t + index)
                let id = try await driver.answerInbound(uniqueid: uniqueid, leadID: lead, ingroup: "SALESIN", user: "agent\(index)", at: t + index)
                var data = ViciDialCallData(rowID: .inbound(closeCallID: id), uniqueid: uniqueid, leadID: lead)
                data.status = "INCALL"
                calls.append((EnrichedCall(call: TestCalls.call(uniqueids: [uniqueid], start: t + index), vicidial: data), id))
            }
        }
        let counting = CountingDatabase(base: MariaDBClient(configuration: try TestDatabase.socketConfiguration()))
        let watcher = DispositionWatcher(repository: ViciDialRepository(database: counting), configuration: .init(pollInterval: 5))
        for (call, _) in calls { _ = await watcher.watch(call, at: 0) }

        var queriesPerPoll: [Int] = []
        var emitted: [String] = []
        for poll in 1...3 {
            // Before each poll, the agents of five more calls (both kinds) dispose.
            for (call, key) in calls[(poll - 1) * 5..<poll * 5] {
                if let id = call.vicidial?.closeCallID {
                    try await driver.disposeInbound(closeCallID: id, status: "NI")
                } else {
                    try await driver.dispose(leadID: key, user: call.vicidial?.user ?? "", status: "NI")
                }
            }
            let before = counting.count
            let outcomes = await watcher.poll(at: Double(poll * 5))
            queriesPerPoll.append(counting.count - before)
            for case .dispositionSet(let set) in outcomes { emitted.append(set.call.call.linkedid) }
        }
        #expect(queriesPerPoll == [1, 1, 1])
        #expect(emitted.sorted() == calls[0..<15].map(\.0.call.linkedid).sorted())
        #expect(await watcher.waitingCount == 35)
    }
}
