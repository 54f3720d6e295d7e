@testable import AMIBridge
import CRMSink
import EventMapper
import Foundation
import Logging
import MariaDB
import Testing
import ViciDial
import ViciDialTestSupport

/// The emit stage on a real outbox: a batch of updates is one transaction; without a ViciDial
/// database a completed call goes out at once, with one it is held (on disk) for its row.
@Suite struct EmitStageTests {
    static let endpoint = try! WebhookEndpoint.Configuration(name: "crm", url: "http://127.0.0.1:9/hook")

    struct Fixture {
        let directory: String
        let outbox: Outbox
        let stage: EmitStage

        init(joined: Bool) throws {
            directory = NSTemporaryDirectory() + "amibridge-emit-" + UUID().uuidString
            outbox = try Outbox(stateDirectory: directory)
            let clock = SystemEpochClock()
            let pipelineOutbox = PipelineOutbox(
                outbox: outbox, emitter: WebhookEmitter(outbox: outbox, endpoints: [EmitStageTests.endpoint]),
                clock: clock, logger: Logger(label: "test")
            )
            let registry = ClickToCallRegistry(limits: .init(retention: .seconds(60), maximumCalls: 10))
            var join: ViciDialJoinStage?
            if joined {
                // Never polled here: the database is not reached.
                let repository = ViciDialRepository(database: MariaDBPool(configuration: .init(endpoint: .tcp(host: "127.0.0.1", port: 9), username: "nobody", password: ""), size: 1))
                let dispositions = DispositionStage(
                    watcher: DispositionWatcher(repository: repository), outbox: pipelineOutbox, clickToCall: registry,
                    clock: clock, pollInterval: .seconds(3600), logger: Logger(label: "test")
                )
                join = ViciDialJoinStage(
                    enricher: CallEnricher(repository: repository), dispositions: dispositions, outbox: pipelineOutbox,
                    clock: clock, pollInterval: .seconds(3600), logger: Logger(label: "test")
                )
            }
            stage = EmitStage(
                updates: StageQueue(capacity: 10), outbox: pipelineOutbox, join: join, clickToCall: registry,
                hangups: StageQueue(capacity: 10), outages: nil, recentUniqueids: RecentSet(capacity: 100),
                callLog: CallLog(logger: Logger(label: "test")), clock: clock
            )
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func answeredCall(_ linkedid: String) -> CallRecord {
        var call = TestCalls.call(uniqueids: [linkedid, linkedid + "1"], start: 1_700_000_000)
        call.answeredAt = 1_700_000_002
        call.outcome = .answered
        return call
    }

    @Test func withoutADatabaseACompletedCallGoesOutAtOnceWithItsDeterministicID() async throws {
        let fixture = try Fixture(joined: false)
        defer { fixture.remove() }
        let call = Self.answeredCall("1700000000.1")
        await fixture.stage.handle([.answered(call), .completed(call)])
        // Stored in order (and claimed in order: call_complete only after call_answered).
        let owed = try fixture.outbox.list(OutboxSelection(states: [.pending]), limit: 10)
        #expect(owed.map(\.event) == ["call_answered", "call_complete"])
        #expect(owed.map(\.eventID) == [
            WebhookEvent.eventID(server: "dialer1", subject: "1700000000.1", name: .callAnswered),
            WebhookEvent.eventID(server: "dialer1", subject: "1700000000.1", name: .callComplete),
        ])
        #expect(try fixture.outbox.heldCallCounts().isEmpty)
    }

    @Test func withADatabaseACompletedCallIsHeldOnDiskForItsRow() async throws {
        let fixture = try Fixture(joined: true)
        defer { fixture.remove() }
        let call = Self.answeredCall("1700000000.2")
        await fixture.stage.handle([.answered(call), .completed(call)])
        // call_answered goes out; call_complete waits for the join.
        #expect(try fixture.outbox.list(OutboxSelection(states: [.pending]), limit: 10).map(\.event) == ["call_answered"])
        let held = try fixture.outbox.heldCalls(.viciDialRow)
        #expect(held.map(\.callKey) == ["dialer1/1700000000.2"])
        #expect(held.first?.decoded(as: CallRecord.self) == call)
        let waiting = await fixture.join?.enricher.waitingCount
        #expect(waiting == 1)
    }
}

extension EmitStageTests.Fixture {
    var join: ViciDialJoinStage? { stage.join }
}
