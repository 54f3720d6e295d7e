import AMIProtocol
import AMITestSupport
import EventMapper
import NIOConcurrencyHelpers
import Testing

/// Batches made by different tasks of ``CallTrackingService`` reach the next stage in the order
/// they were made, even when handing the first one on is slow.
@Suite("Updates keep their order across the service's tasks")
struct HandOnOrderTests {
    /// What the next stage received, in the order its (slow) queue took it.
    final class SlowStage: Sendable {
        private struct State {
            var calls = 0
            var received: [CallUpdate] = []
        }

        private let state = NIOLockedValueBox(State())
        let firstCallStarted: AsyncStream<Void>
        private let firstCallContinuation: AsyncStream<Void>.Continuation
        let secondCallStarted: AsyncStream<Void>
        private let secondCallContinuation: AsyncStream<Void>.Continuation
        /// Once a batch with a completed call has been taken.
        let completionTaken: AsyncStream<Void>
        private let completionContinuation: AsyncStream<Void>.Continuation

        init() {
            (firstCallStarted, firstCallContinuation) = AsyncStream.makeStream()
            (secondCallStarted, secondCallContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
            (completionTaken, completionContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        }

        var received: [CallUpdate] { state.withLockedValue { $0.received } }

        /// The first batch is held until a second one is handed on, or for at most 500 ms: with
        /// batches handed on in order no second one can start meanwhile, so the limit ends it.
        func take(_ batch: [CallUpdate]) async {
            let call = state.withLockedValue { state in
                state.calls += 1
                return state.calls
            }
            if call == 1 {
                firstCallContinuation.yield()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { for await _ in self.secondCallStarted { return } }
                    group.addTask { try? await Task.sleep(for: .milliseconds(500)) }
                    await group.next()
                    group.cancelAll()
                }
            } else if call == 2 {
                secondCallContinuation.yield()
            }
            state.withLockedValue { $0.received += batch }
            if batch.contains(where: { if case .completed = $0 { true } else { false } }) { completionContinuation.yield() }
        }
    }

    @Test("the answer of a call held back during a login's reconcile goes on before its completion that came after")
    func reconcileThenEvents() async throws {
        let timeline = try CaptureTimeline("asterisk-20", "originate-answered")
        let messages = timeline.items.compactMap { item -> (AMIMessage, Double)? in
            if case .message(let message, let time) = item, message.eventName != nil { return (message, time) }
            return nil
        }
        let firstHangup = try #require(messages.firstIndex { $0.0.eventName == "Hangup" })
        let events = AMIEventStream()
        // Logged in, then the call up to its answer: held back until the reconcile has run.
        _ = events.yield(.loggedIn(server: "dialer1", banner: "Asterisk Call Manager/9.0.0"))
        for (message, time) in messages[..<firstHangup] {
            _ = events.yield(.event(AMIEvent(server: "dialer1", message: message, receivedAt: time)))
        }
        let stage = SlowStage()
        // Asterisk lists no live channel: the call began after the login.
        let service = CallTrackingService(events: events, listChannels: { _ in [] }) { await stage.take($0) }

        try await withDeadline(.seconds(30)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                // The reconcile's batch (with the answer) is on its way: now the hangup arrives.
                for await _ in stage.firstCallStarted { break }
                for (message, time) in messages[firstHangup...] {
                    _ = events.yield(.event(AMIEvent(server: "dialer1", message: message, receivedAt: time)))
                }
                for await _ in stage.completionTaken { break }
                events.finish()
                try await group.waitForAll()
            }
        }
        let kinds = stage.received.compactMap { update -> String? in
            switch update {
            case .answered: "answered"
            case .completed: "completed"
            default: nil
            }
        }
        #expect(kinds == ["answered", "completed"])
    }
}
