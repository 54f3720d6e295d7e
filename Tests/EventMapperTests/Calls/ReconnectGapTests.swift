import AMIProtocol
import AMITestSupport
import EventMapper
import Foundation
import NIOConcurrencyHelpers
import Testing

/// A call that hangs up while the AMI connection is down still comes out, marked reconstructed.
@Suite("Calls across an AMI outage")
struct ReconnectGapTests {
    /// The recorded answered call, cut just before its first Hangup: what a client saw before
    /// the connection dropped.
    static func callUntilHangup() throws -> String {
        let capture = try AMICapture.load("asterisk-20", "originate-answered")
        let text = String(decoding: capture.receivedBytes, as: UTF8.self)
        let afterBanner = text[text.range(of: "\r\n")!.upperBound...]
        let cut = afterBanner.range(of: "Event: Hangup\r\n")!.lowerBound
        // Drop the login response: the fake answers the client's own Login.
        let body = afterBanner[afterBanner.range(of: "\r\n\r\n")!.upperBound..<cut]
        return String(body)
    }

    @Test("tracked calls absent from CoreShowChannels after a reconnect complete as reconstructed; live ones go on")
    func gap() async throws {
        let beforeOutage = try Self.callUntilHangup()
        let behavior = FakeAMIServer.asterisk { session in
            if session.index == 0 {
                try await session.write(beforeOutage)
                throw CaptureError("connection lost") // the outage
            }
            // After the reconnect the call is gone: CoreShowChannels lists nothing (answered generically).
        }
        try await FakeAMIServer.withServer(behavior: behavior) { server in
            let events = AMIEventStream()
            let client = AMIClient(
                configuration: .init(name: "dialer1", host: "127.0.0.1", port: server.port,
                                     session: .init(username: "bridge", secret: "s3cret-AMI"),
                                     reconnect: .init(initialDelay: .milliseconds(10))),
                events: events
            )
            let updates = NIOLockedValueBox<[CallUpdate]>([])
            let (outages, continuation) = AsyncStream<(from: Double, to: Double)>.makeStream()
            let service = CallTrackingService(
                events: events,
                listChannels: { _ in try await client.send(.coreShowChannels).listItems }
            ) { batch in
                for update in batch {
                    updates.withLockedValue { $0.append(update) }
                    if case .outage(let server, let from, let to) = update, server == "dialer1" { continuation.yield((from, to)) }
                }
            }
            // The outage is reported after the reconcile's completions.
            let outage = try await withDeadline(.seconds(60)) {
                try await withThrowingTaskGroup(of: (from: Double, to: Double)?.self) { group in
                    group.addTask { try await client.run(); return nil }
                    group.addTask { try await service.run(); return nil }
                    group.addTask {
                        for await outage in outages { return outage }
                        return nil
                    }
                    defer { group.cancelAll() }
                    while let result = try await group.next() {
                        if let outage = result { return outage }
                    }
                    throw CaptureError("no outage reported")
                }
            }
            #expect(outage.from <= outage.to)
            let completed = updates.withLockedValue { $0 }.compactMap { if case .completed(let call) = $0 { return call } else { return nil } }
            #expect(completed.count == 1)
            let record = try #require(completed.first)
            #expect(record.reconstructed)
            #expect(record.linkedid == "1795615870.0")
            #expect(record.outcome == .answered)
            #expect(record.endedAt == nil)
            #expect(record.callID == "c2c-orig-1")
            // It had been announced before the outage, and answered.
            let seen = updates.withLockedValue { $0 }
            #expect(seen.contains { if case .started(let call) = $0 { return call.linkedid == "1795615870.0" } else { return false } })
            #expect(seen.contains { if case .answered(let call) = $0 { return call.linkedid == "1795615870.0" } else { return false } })
        }
    }

    @Test("reconcile: a partly ended call keeps its live legs; unknown live channels become calls")
    func reconcileUnit() throws {
        let timeline = try CaptureTimeline("asterisk-20", "coreshowchannels-midcall")
        var tracker = CallTracker(configuration: .init(server: "dialer1"))
        var listItems: [AMIMessage] = []
        for item in timeline.items {
            guard case .message(let message, let time) = item else { continue }
            if message.eventName == "CoreShowChannel" { listItems.append(message); continue }
            if message.eventName == "Hangup" { break } // the outage starts before any hangup
            _ = tracker.receive(message, at: time)
        }
        #expect(listItems.count == 4)
        #expect(tracker.liveCallCount == 1)
        // Two of the four channels are gone, two are still up: the call goes on.
        let partial = tracker.reconcile(liveChannels: Array(listItems.prefix(2)), at: timeline.lastTime)
        #expect(partial.isEmpty)
        #expect(tracker.liveCallCount == 1)

        // A fresh tracker (a restarted daemon) learns the live call from the list alone.
        var fresh = CallTracker(configuration: .init(server: "dialer1"))
        let learned = fresh.reconcile(liveChannels: listItems, at: timeline.lastTime)
        #expect(fresh.liveCallCount == 1)
        let started = learned.compactMap { if case .started(let call) = $0 { return call } else { return nil } }
        #expect(started.count == 1)
        #expect(started.first?.reconstructed == true)
        #expect(started.first?.legs.count == 4)
    }
}
