@testable import AMIBridge
import CRMSink
import EventMapper
import Foundation
import Logging
import MariaDB
import Testing
import ViciDial
import ViciDialTestSupport

/// `call_answered` as a screen pop: the emit stage holds an answered call on disk and hands it to
/// the answer join, which sends it with the agent and lead ViciDial has (real MariaDB, rows
/// written as ViciDial writes them), or without them, promptly, when the database is down or hung.
/// Each test awaits the stored events themselves; none sleeps to wait for one.
@Suite(.timeLimit(.minutes(1))) struct AnswerJoinStageTests {
    static let endpoint = try! WebhookEndpoint.Configuration(name: "crm", url: "http://127.0.0.1:9/hook")

    /// A database whose every query hangs until cancelled (a MariaDB that stopped answering).
    struct HungDatabase: ViciDialDatabase {
        func query(_ sql: String, _ parameters: [MariaDBValue]) async throws -> [MariaDBRow] {
            try await Task.sleep(for: .seconds(3600))
            return []
        }
        func withConnection<Result: Sendable>(_ body: @escaping @Sendable (MariaDBConnection) throws -> Result) async throws -> Result {
            try await Task.sleep(for: .seconds(3600))
            throw CancellationError()
        }
    }

    /// Emit stage (no row join: a completed call's `call_complete` goes out at once) and answer
    /// join on a real outbox; every event stored comes out of `stored`, in order.
    struct Fixture {
        let directory: String
        let outbox: Outbox
        let emit: EmitStage
        let answers: AnswerJoinStage
        let stored: AsyncStream<WebhookEvent>

        init(database: any ViciDialDatabase, wait: Double, directory: String? = nil) throws {
            self.directory = directory ?? NSTemporaryDirectory() + "amibridge-answer-" + UUID().uuidString
            outbox = try Outbox(stateDirectory: self.directory)
            let clock = SystemEpochClock()
            let (stream, continuation) = AsyncStream.makeStream(of: WebhookEvent.self)
            stored = stream
            var pipelineOutbox = PipelineOutbox(
                outbox: outbox, emitter: WebhookEmitter(outbox: outbox, endpoints: [AnswerJoinStageTests.endpoint]),
                clock: clock, logger: Logger(label: "test")
            )
            pipelineOutbox.stored = { events in for event in events { continuation.yield(event) } }
            answers = AnswerJoinStage(
                repository: ViciDialRepository(database: database), configuration: .init(maximumWait: wait, pollInterval: 0.05),
                outbox: pipelineOutbox, clock: clock, logger: Logger(label: "test")
            )
            emit = EmitStage(
                updates: StageQueue(capacity: 10), outbox: pipelineOutbox, join: nil,
                clickToCall: ClickToCallRegistry(limits: .init(retention: .seconds(60), maximumCalls: 10)),
                hangups: StageQueue(capacity: 10), outages: nil, recentUniqueids: RecentSet(capacity: 100),
                callLog: CallLog(logger: Logger(label: "test")), clock: clock, answers: answers
            )
        }

        /// Runs the answer join while `body` runs.
        func running<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await answers.run() }
                defer { group.cancelAll() }
                return try await body()
            }
        }

        func owedEvents() throws -> [String] {
            try outbox.list(OutboxSelection(states: [.pending]), limit: 100).map(\.event)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func answered(_ call: CallRecord) -> CallRecord {
        var call = call
        call.endedAt = nil
        call.answeredAt = call.startedAt + 2
        return call
    }

    static func completed(_ call: CallRecord) -> CallRecord {
        var call = call
        call.endedAt = call.startedAt + 30
        call.outcome = .answered
        return call
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start).seconds }

    // MARK: with ViciDial's rows

    @Test func aManualDialWhoseRowIsThereAtTheAnswerCarriesItsAgentAndLead() async throws {
        let driver = try ViciDialTestDriver()
        let t = Int(Date().timeIntervalSince1970)
        let campaign = ViciDialTestDriver.campaign()
        let lead = try await driver.insertLead(firstName: "Ada", phone: "3125550101")
        let customer = ViciDialTestDriver.uniqueid(t)
        // Manual dial: ViciDial inserts the row INCALL with the agent once the customer rings.
        try await driver.answerOutbound(uniqueid: customer, leadID: lead, campaign: campaign, user: "agent21", status: "INCALL",
                                        phone: "3125550101", at: t)
        let fixture = try Fixture(database: try ViciDialTestDriver.repository().database, wait: 10)
        defer { fixture.remove() }
        let call = Self.answered(TestCalls.call(
            uniqueids: [ViciDialTestDriver.uniqueid(t), customer], start: t, callerCode: TestCalls.callerCode("M", leadID: lead), phone: nil
        ))

        let event = try await fixture.running {
            let start = ContinuousClock.now
            var events = fixture.stored.makeAsyncIterator()
            await fixture.emit.handle([.answered(call)])
            // Held on disk while it waits: a SIGKILL now would not lose it.
            #expect(try fixture.outbox.heldCalls(.answer).map(\.callKey) == [call.key])
            let event = try #require(await events.next())
            // It left when both were found, not at the end of its 10 s wait.
            #expect(Self.seconds(since: start) < 5)
            return event
        }
        #expect(event.name == .callAnswered)
        #expect(event.eventID == WebhookEvent.eventID(server: call.server, subject: call.linkedid, name: .callAnswered))
        #expect(event.agentUser == "agent21")
        #expect(event.leadID == Int(lead))
        #expect(event.campaignID == campaign)
        #expect(event.listID == 101)
        #expect(event.phoneNumber == "3125550101")
        #expect(event.extra["first_name"] == "Ada")
        #expect(event.extra["user"] == "agent21")
        #expect(try fixture.outbox.heldCalls(.answer).isEmpty)
    }

    @Test func anAutoDialTakesItsAgentFromTheLiveAgentRowAndAnInboundCallItsInGroup() async throws {
        let driver = try ViciDialTestDriver()
        let t = Int(Date().timeIntervalSince1970)
        let campaign = ViciDialTestDriver.campaign()
        // Auto-dial: the row says VDAD; the agent the call reached is in vicidial_live_agents,
        // found by the call's caller code.
        let outboundLead = try await driver.insertLead(firstName: "Grace")
        let outboundCustomer = ViciDialTestDriver.uniqueid(t)
        try await driver.answerOutbound(uniqueid: outboundCustomer, leadID: outboundLead, campaign: campaign, at: t)
        let code = TestCalls.callerCode("V", leadID: outboundLead)
        try await driver.agentOnCall(user: "agent31", leadID: outboundLead, campaign: campaign, uniqueid: "", callerCode: code.code)
        let outbound = Self.answered(TestCalls.call(uniqueids: [outboundCustomer], start: t, callerCode: code))
        // Inbound: the closer log row (in-group) is written when the call queues, VDCL until an
        // agent takes it; the agent's live row names the call's uniqueid.
        let ingroup = "IG" + String(Int.random(in: 100_000...999_999))
        let inboundLead = try await driver.insertLead(firstName: "Hedy")
        let carrier = ViciDialTestDriver.uniqueid(t)
        let closeCallID = try await driver.queueInbound(uniqueid: carrier, leadID: inboundLead, ingroup: ingroup, at: t)
        try await driver.agentOnCall(user: "agent32", leadID: inboundLead, campaign: campaign, uniqueid: carrier, callerCode: "")
        let inbound = Self.answered(TestCalls.call(uniqueids: [carrier], start: t, server: "dialer2"))

        let fixture = try Fixture(database: try ViciDialTestDriver.repository().database, wait: 10)
        defer { fixture.remove() }
        let events = try await fixture.running {
            var stored = fixture.stored.makeAsyncIterator()
            await fixture.emit.handle([.answered(outbound), .answered(inbound)])
            var events: [String: WebhookEvent] = [:]
            while events.count < 2, let event = await stored.next() { events[event.callKey] = event }
            return events
        }
        let first = try #require(events[outbound.key])
        #expect(first.agentUser == "agent31")
        #expect(first.leadID == Int(outboundLead))
        #expect(first.campaignID == campaign)
        #expect(first.extra["first_name"] == "Grace")
        let second = try #require(events[inbound.key])
        #expect(second.agentUser == "agent32")
        #expect(second.leadID == Int(inboundLead))
        #expect(second.campaignID == ingroup)
        #expect(second.extra["closecallid"] == String(closeCallID))
        #expect(second.extra["first_name"] == "Hedy")
    }

    // MARK: without the database

    @Test func withTheDatabaseDownCallAnsweredGoesOutAtOnceWithTheCallerCodesLead() async throws {
        let refused = MariaDBPool(configuration: .init(endpoint: .tcp(host: "127.0.0.1", port: 9), username: "nobody", password: ""), size: 1)
        let fixture = try Fixture(database: refused, wait: 20)
        defer { fixture.remove() }
        let call = Self.answered(TestCalls.call(uniqueids: ["1700000100.1"], start: 1_700_000_100, callerCode: TestCalls.callerCode("M", leadID: 4711)))
        let (event, elapsed) = try await fixture.running {
            let start = ContinuousClock.now
            var events = fixture.stored.makeAsyncIterator()
            await fixture.emit.handle([.answered(call)])
            let event = try #require(await events.next())
            return (event, Self.seconds(since: start))
        }
        #expect(event.name == .callAnswered)
        #expect(elapsed < 5, "the failed lookup sends it, long before its 20 s wait ends")
        #expect(event.leadID == 4711)
        #expect(event.agentUser == nil)
        #expect(try fixture.outbox.heldCalls(.answer).isEmpty)
    }

    @Test func aHungDatabaseHoldsCallAnsweredNoLongerThanItsWait() async throws {
        let fixture = try Fixture(database: HungDatabase(), wait: 0.5)
        defer { fixture.remove() }
        let call = Self.answered(TestCalls.call(uniqueids: ["1700000200.1"], start: 1_700_000_200))
        let elapsed = try await fixture.running {
            let start = ContinuousClock.now
            var events = fixture.stored.makeAsyncIterator()
            await fixture.emit.handle([.answered(call)])
            let event = try #require(await events.next())
            #expect(event.name == .callAnswered)
            return Self.seconds(since: start)
        }
        #expect(elapsed >= 0.5 && elapsed < 5, "sent at the end of its wait while the lookup still hangs: \(elapsed) s")
    }

    @Test func aCallCompletingWhileItsAnswerWaitsSendsCallAnsweredFirstWithoutDelayingCallComplete() async throws {
        let fixture = try Fixture(database: HungDatabase(), wait: 30)
        defer { fixture.remove() }
        let call = Self.answered(TestCalls.call(uniqueids: ["1700000300.1"], start: 1_700_000_300))
        let elapsed = try await fixture.running {
            await fixture.emit.handle([.answered(call)])
            let start = ContinuousClock.now
            await fixture.emit.handle([.completed(Self.completed(call))])
            return Self.seconds(since: start)
        }
        #expect(elapsed < 1, "the completion waited \(elapsed) s")
        #expect(try fixture.owedEvents() == ["call_answered", "call_complete"])
        #expect(try fixture.outbox.heldCalls(.answer).isEmpty)
    }

    @Test func aCallAnsweredAndCompletedInOneBatchIsNotHeld() async throws {
        let fixture = try Fixture(database: HungDatabase(), wait: 30)
        defer { fixture.remove() }
        let call = Self.answered(TestCalls.call(uniqueids: ["1700000400.1"], start: 1_700_000_400))
        await fixture.emit.handle([.answered(call), .completed(Self.completed(call))])
        #expect(try fixture.owedEvents() == ["call_answered", "call_complete"])
        #expect(try fixture.outbox.heldCalls(.answer).isEmpty)
        #expect(await fixture.answers.waits.count == 0)
    }

    @Test func anAnswerHeldWhenTheBridgeWasKilledGoesOutAfterTheRestart() async throws {
        let first = try Fixture(database: HungDatabase(), wait: 0.2)
        defer { first.remove() }
        let call = Self.answered(TestCalls.call(uniqueids: ["1700000500.1"], start: 1_700_000_500, callerCode: TestCalls.callerCode("M", leadID: 99)))
        // Stored as held, and the process "dies" before its answer join ever runs.
        await first.emit.handle([.answered(call)])
        #expect(try first.owedEvents().isEmpty)

        let restarted = try Fixture(database: HungDatabase(), wait: 0.2, directory: first.directory)
        let held = try restarted.outbox.heldCalls(.answer)
        #expect(held.count == 1)
        #expect(await restarted.answers.resumeHeldCalls(held) == 1)
        let event = try await restarted.running {
            var events = restarted.stored.makeAsyncIterator()
            return try #require(await events.next())
        }
        #expect(event.name == .callAnswered)
        #expect(event.eventID == WebhookEvent.eventID(server: call.server, subject: call.linkedid, name: .callAnswered))
        #expect(event.leadID == 99)
        #expect(try restarted.outbox.heldCalls(.answer).isEmpty)
        #expect(try restarted.owedEvents() == ["call_answered"])
    }
}
