@testable import AMIBridge
import AMIProtocol
import CRMSink
import EventMapper
import Foundation
import NIOConcurrencyHelpers
import Testing
import ViciDial

/// How the status snapshot is built: rates from the clock the daemon injects, and at most one
/// rebuild per refresh interval and one outbox reading per outbox interval, however often a page polls.
@Suite("API status page: snapshot service")
struct StatusServiceTests {
    @Test("events per second come from two readings at least a second apart, on the injected clock")
    func eventRate() async throws {
        let fixture = try StatusRoutesTests.Fixture()
        defer { fixture.remove() }
        let events = NIOLockedValueBox(1_000)
        let service = StatusService(
            board: fixture.board, history: fixture.history,
            servers: { [.init(name: "pbx", status: .disconnected(AMIError(.connectFailed, "refused")), since: 1_700_000_000, eventsRead: events.withLockedValue { $0 })] },
            outbox: nil, retryOutbox: nil, clock: fixture.clock
        )
        let first = try await service.snapshot()
        #expect(first.amiServers.first?.eventsPerSecond == nil)
        #expect(first.amiServers.first?.connected == false)
        #expect(first.amiServers.first?.state == .disconnected)
        #expect(first.amiServers.first?.error?.contains("refused") == true)

        events.withLockedValue { $0 += 100 }
        fixture.clock.advance(by: .seconds(2))
        #expect(try await service.snapshot().amiServers.first?.eventsPerSecond == 50)

        // Rebuilt (0.6 s later) but the last reading is under a second old: the rate stands.
        events.withLockedValue { $0 += 10 }
        fixture.clock.advance(by: .milliseconds(600))
        let soon = try await service.snapshot()
        #expect(soon.generatedAt == 1_700_000_102.6)
        #expect(soon.amiServers.first?.eventsPerSecond == 50)
    }

    @Test("polls within the refresh interval share one snapshot; the outbox is read again only after its interval")
    func caching() async throws {
        let fixture = try StatusRoutesTests.Fixture()
        defer { fixture.remove() }
        let service = fixture.service()
        let first = try await service.snapshot()
        #expect(first.deadLetters.count == 0)
        #expect(first.endpoints.map(\.name) == ["crm"])

        // A new call within 0.5 s: the same snapshot.
        fixture.board.apply([.started(StatusRoutesTests.call())])
        #expect(try await service.snapshot().callsInProgress.count == 0)
        fixture.clock.advance(by: .milliseconds(500))
        #expect(try await service.snapshot().callsInProgress.count == 1)

        // A dead letter now: the outbox was read 0.5 s ago, so it shows after 2 s.
        _ = try fixture.deadLetter()
        fixture.clock.advance(by: .milliseconds(600))
        #expect(try await service.snapshot().deadLetters.count == 0)
        fixture.clock.advance(by: .seconds(1))
        let later = try await service.snapshot()
        #expect(later.deadLetters.count == 1)
        #expect(later.deadLetters.letters.first?.lastStatus == 400)
        #expect(later.endpoints.first?.dead == 1)
    }

    @Test("the board is bounded: past its capacity new calls are not kept, known ones still update")
    func boardCapacity() {
        let board = StatusBoard(completedCallsAreHeld: false)
        board.apply((0..<StatusBoard.capacity).map { .started(StatusRoutesTests.call(linkedid: "1700000000.\($0)")) })
        board.apply([.started(StatusRoutesTests.call(linkedid: "1800000000.1"))])
        #expect(board.snapshot.live.count == StatusBoard.capacity)
        #expect(board.snapshot.live["pbx/1800000000.1"] == nil)
        var answered = StatusRoutesTests.call(linkedid: "1700000000.0")
        answered.answeredAt = 1_700_000_050
        board.apply([.answered(answered)])
        #expect(board.snapshot.live["pbx/1700000000.0"]?.answeredAt == 1_700_000_050)
        // Without a ViciDial database a completed call leaves at once.
        board.apply([.completed(answered)])
        #expect(board.snapshot.live["pbx/1700000000.0"] == nil)
    }

    @Test("calls held at the last stop show with their details, since unknown, as soon as the daemon starts")
    func resumedCalls() async throws {
        let fixture = try StatusRoutesTests.Fixture()
        defer { fixture.remove() }
        let row = StatusRoutesTests.call(linkedid: "1700000000.1")
        let disposition = StatusRoutesTests.call(linkedid: "1700000000.2")
        fixture.board.resumed([
            .waitingForRow(row, deadline: 1_700_000_200),
            .waitingForDisposition(EnrichedCall(call: disposition, vicidial: nil), deadline: 1_700_001_000),
            HeldCall(kind: .viciDialRow, callKey: "pbx/1700000000.3", payload: Array("not json".utf8), deadline: 1_700_000_300),
        ])
        let waiting = try await fixture.service(mask: true).snapshot().callsWaiting
        #expect(waiting.vicidialRow == 2)
        #expect(waiting.disposition == 1)
        #expect(waiting.calls.map(\.linkedid) == ["1700000000.1", "1700000000.3", "1700000000.2"])
        #expect(waiting.calls.map(\.phoneNumber) == ["*******1234", nil, "*******1234"])
        #expect(waiting.calls.allSatisfy { $0.since == nil })
        #expect(waiting.calls.last?.waitingFor == .disposition)
    }

    @Test("a held call the board never saw live (found by an outage sweep) shows with its stored details")
    func sweptCall() {
        let board = StatusBoard(completedCallsAreHeld: true)
        let swept = StatusRoutesTests.call(linkedid: "1700000000.9")
        board.stored(holding: [.waitingForDisposition(EnrichedCall(call: swept, vicidial: nil), deadline: 1_700_001_000)], releasing: [], at: 1_700_000_100)
        let call = board.snapshot.held[swept.key]
        #expect(call?.phoneNumber == "18005551234")
        #expect(call?.waitingFor == .disposition)
        #expect(call?.waitingSince == 1_700_000_100)
    }
}
