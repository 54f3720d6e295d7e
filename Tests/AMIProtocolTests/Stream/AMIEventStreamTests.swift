import AMIProtocol
import AMITestSupport
import NIOConcurrencyHelpers
import Testing

/// The bounded stream between the AMI clients and their one consumer: order, the bound, session
/// changes that always fit, batches, sources that pause instead of losing events, the end, and a
/// consumer that waits or is cancelled. No sleeps: a
/// consumer task says when it is about to wait, and `withDeadline` only guards against a hang.
@Suite("AMI event stream")
struct AMIEventStreamTests {
    @Test("elements come out in the order they went in")
    func fifo() async {
        let stream = AMIEventStream(capacity: 10)
        let input: [AMIClientEvent] = [
            .loggedIn(server: "dialer1", banner: "Asterisk Call Manager/9.0.0"),
            event(1), event(2),
            .disconnected(server: "dialer1", reason: AMIError(.connectionClosed, "gone")),
            event(3),
        ]
        for element in input { #expect(stream.yield(element)) }
        stream.finish()
        #expect(await drain(stream) == input.map(label))
    }

    @Test("with capacity N, N + k events: k are refused, counted as dropped, N stay queued", arguments: [(1, 1), (3, 2), (5, 7)])
    func bounded(capacity: Int, extra: Int) async {
        let stream = AMIEventStream(capacity: capacity)
        let accepted = (1...(capacity + extra)).map { stream.yield(event($0)) }
        #expect(accepted == Array(repeating: true, count: capacity) + Array(repeating: false, count: extra))
        #expect(stream.droppedEvents == extra)
        #expect(stream.queuedEvents == capacity)

        // The newest events were the ones dropped.
        stream.finish()
        #expect(await drain(stream) == (1...capacity).map { label(event($0)) })
    }

    @Test("session changes are queued even when the buffer is full, and do not take event room")
    func sessionChangesAlwaysFit() async {
        let stream = AMIEventStream(capacity: 2)
        #expect(stream.yield(event(1)))
        #expect(stream.yield(event(2)))
        #expect(!stream.yield(event(3)))
        let lost = AMIClientEvent.disconnected(server: "dialer1", reason: AMIError(.eventBufferOverflow, "consumer behind"))
        let back = AMIClientEvent.loggedIn(server: "dialer1", banner: "Asterisk Call Manager/9.0.0")
        #expect(stream.yield(lost))
        #expect(stream.yield(back))
        #expect(stream.queuedEvents == 2)
        #expect(stream.droppedEvents == 1)
        stream.finish()
        #expect(await drain(stream) == [label(event(1)), label(event(2)), label(lost), label(back)])
    }

    @Test("taking an event frees its room")
    func consumingFreesRoom() async {
        let stream = AMIEventStream(capacity: 2)
        #expect(stream.yield(event(1)))
        #expect(stream.yield(event(2)))
        #expect(!stream.yield(event(3)))
        var iterator = stream.makeAsyncIterator()
        #expect(label(await iterator.next()) == label(event(1)))
        #expect(stream.queuedEvents == 1)
        #expect(stream.yield(event(4)))
        #expect(stream.queuedEvents == 2)
        #expect(stream.droppedEvents == 1)
    }

    @Test("finish: the consumer gets what is queued, then nil, and later yields are refused")
    func finish() async {
        let stream = AMIEventStream(capacity: 4)
        #expect(stream.yield(event(1)))
        #expect(stream.yield(.loggedIn(server: "dialer1", banner: "Asterisk Call Manager/9.0.0")))
        stream.finish()
        #expect(!stream.yield(event(2)))
        #expect(!stream.yield(.disconnected(server: "dialer1", reason: AMIError(.clientShutdown, "stopping"))))

        var iterator = stream.makeAsyncIterator()
        #expect(label(await iterator.next()) == label(event(1)))
        #expect(label(await iterator.next()) == "loggedIn dialer1 Asterisk Call Manager/9.0.0")
        #expect(await iterator.next() == nil)
        #expect(await iterator.next() == nil)
    }

    @Test("a waiting consumer is resumed by yield")
    func yieldResumesWaitingConsumer() async throws {
        let stream = AMIEventStream(capacity: 4)
        // Repeated: the consumer may or may not be parked by the time yield runs; both must work.
        for round in 1...50 {
            let received = try await withDeadline(.seconds(60)) {
                try await withConsumer(of: stream, taking: 1) { stream.yield(event(round)) }
            }
            #expect(received == [label(event(round))])
            #expect(stream.queuedEvents == 0)
        }
    }

    @Test("finish resumes a waiting consumer with nil")
    func finishResumesWaitingConsumer() async throws {
        let stream = AMIEventStream(capacity: 4)
        let received = try await withDeadline(.seconds(60)) {
            try await withConsumer(of: stream, taking: 1) { stream.finish() }
        }
        #expect(received == ["end"])
    }

    @Test("cancelling the consuming task ends its iteration; the stream takes a new consumer")
    func cancellationEndsIteration() async throws {
        let stream = AMIEventStream(capacity: 4)
        for round in 1...50 {
            #expect(stream.yield(event(round)))
            let received = try await withDeadline(.seconds(60)) {
                try await withThrowingTaskGroup(of: [String].self) { group in
                    let (firstTaken, signal) = AsyncStream<Void>.makeStream()
                    group.addTask {
                        var labels: [String] = []
                        for await element in stream {
                            labels.append(label(element))
                            signal.yield()
                        }
                        return labels
                    }
                    // Cancel once the consumer has its event and is going back for the next.
                    for await _ in firstTaken { break }
                    group.cancelAll()
                    return try await group.next() ?? []
                }
            }
            #expect(received == [label(event(round))])
        }
        // The cancelled consumers left nothing behind: a new one is served.
        #expect(stream.yield(event(99)))
        var iterator = stream.makeAsyncIterator()
        #expect(label(await iterator.next()) == label(event(99)))
    }

    @Test("nextBatch: everything queued up to the limit, in order, then the rest")
    func batchesInOrder() async {
        let stream = AMIEventStream(capacity: 100)
        let login = AMIClientEvent.loggedIn(server: "dialer1", banner: "Asterisk Call Manager/9.0.0")
        #expect(stream.yield(login))
        for number in 1...9 { #expect(stream.yield(event(number))) }
        let first = await stream.nextBatch(limit: 4)
        #expect(first?.map(label) == [label(login)] + (1...3).map { label(event($0)) })
        #expect(stream.queuedEvents == 6)
        let rest = await stream.nextBatch(limit: 100)
        #expect(rest?.map(label) == (4...9).map { label(event($0)) })
        #expect(stream.queuedEvents == 0)
        // Taken whole and refilled: the swapped buffers keep working.
        for number in 10...12 { #expect(stream.yield(event(number))) }
        stream.finish()
        #expect(await stream.nextBatch()?.map(label) == (10...12).map { label(event($0)) })
        #expect(await stream.nextBatch() == nil)
        #expect(await stream.nextBatch() == nil)
    }

    @Test("nextBatch waits for the first element; finish wakes it with nil")
    func batchWaits() async throws {
        let stream = AMIEventStream(capacity: 4)
        for round in 1...50 {
            let received = try await withDeadline(.seconds(60)) {
                try await withBatchConsumer(of: stream) { stream.yield(event(round)) }
            }
            #expect(received == [label(event(round))])
        }
        let end = try await withDeadline(.seconds(60)) {
            try await withBatchConsumer(of: stream) { stream.finish() }
        }
        #expect(end == ["end"])
    }

    @Test("nextBatch returns nil when its task is cancelled while waiting; the stream takes a new consumer")
    func batchCancellation() async throws {
        let stream = AMIEventStream(capacity: 4)
        let result = try await withDeadline(.seconds(60)) {
            await withTaskGroup(of: String.self) { group in
                group.cancelAll()
                group.addTask { await stream.nextBatch() == nil ? "nil" : "batch" }
                return await group.next() ?? "no result"
            }
        }
        #expect(result == "nil")
        #expect(stream.yield(event(1)))
        #expect(await stream.nextBatch()?.map(label) == [label(event(1))])
    }

    @Test("a source is never refused: at capacity it is told to pause, and resumed once the consumer drains to the threshold")
    func sourcePausesAndResumes() async {
        let stream = AMIEventStream(capacity: 4, resumeThreshold: 2)
        let resumed = Counter()
        let source = stream.makeSource { resumed.increment() }
        let demands = (1...6).map { stream.yield(event($0), from: source) }
        // The 4th event fills the stream; events of a read in progress are still taken.
        #expect(demands == [.more, .more, .more, .pause, .pause, .pause])
        #expect(stream.isPaused(source))
        #expect(stream.queuedEvents == 6)
        #expect(stream.droppedEvents == 0)
        #expect(stream.pauseCount == 1)
        // Session changes do not count toward the capacity.
        #expect(stream.yield(.disconnected(server: "dialer1", reason: AMIError(.connectionClosed, "gone")), from: source) == .more)

        #expect(await stream.nextBatch(limit: 3)?.count == 3)
        #expect(resumed.value == 0, "3 events still queued, above the threshold of 2")
        #expect(await stream.nextBatch(limit: 1)?.count == 1)
        #expect(resumed.value == 1)
        #expect(!stream.isPaused(source))
        #expect(await stream.nextBatch(limit: 10)?.count == 3)
        #expect(resumed.value == 1, "resumed once per pause")

        // Paused again, then the iterator drains it: the same resume.
        for number in 7...10 { _ = stream.yield(event(number), from: source) }
        #expect(stream.pauseCount == 2)
        var iterator = stream.makeAsyncIterator()
        for number in 7...8 { #expect(label(await iterator.next()) == label(event(number))) }
        #expect(resumed.value == 2)
    }

    @Test("a parked consumer is woken by a source's flush (once per read), not by each event")
    func sourceWakesAtFlush() async throws {
        let stream = AMIEventStream(capacity: 100)
        let source = stream.makeSource {}
        for round in 0..<20 {
            let received = try await withDeadline(.seconds(60)) {
                try await withBatchConsumer(of: stream) {
                    for number in 1...3 { _ = stream.yield(event(round * 3 + number), from: source) }
                    stream.flush()
                }
            }
            // Woken at the flush, the consumer takes the whole read (or, if it had not parked yet, at least its first event).
            #expect(received.first == label(event(round * 3 + 1)))
            if received.count < 3 { _ = await stream.nextBatch() }
        }
        #expect(stream.queuedEvents == 0)
    }

    @Test("finish resumes paused sources; later elements are discarded without pausing anyone")
    func finishResumesSources() async {
        let stream = AMIEventStream(capacity: 1)
        let resumed = Counter()
        let source = stream.makeSource { resumed.increment() }
        #expect(stream.yield(event(1), from: source) == .pause)
        stream.finish()
        #expect(resumed.value == 1)
        #expect(stream.yield(event(2), from: source) == .more)
        #expect(await stream.nextBatch()?.map(label) == [label(event(1))])
        #expect(await stream.nextBatch() == nil)
    }

    @Test("a consumer cancelled before it asks gets nil at once")
    func cancelledBeforeAsking() async throws {
        let stream = AMIEventStream(capacity: 4)
        let result = try await withDeadline(.seconds(60)) {
            await withTaskGroup(of: String.self) { group in
                group.cancelAll()
                group.addTask {
                    var iterator = stream.makeAsyncIterator()
                    return label(await iterator.next())
                }
                return await group.next() ?? "no result"
            }
        }
        #expect(result == "end")
    }
}

// MARK: - Helpers

private func event(_ number: Int) -> AMIClientEvent {
    .event(AMIEvent(server: "dialer1", message: AMIMessage([("Event", "Newchannel"), ("Uniqueid", "1764085495.\(number)")]), receivedAt: 0))
}

/// AMIClientEvent is not Equatable; its label is.
private func label(_ element: AMIClientEvent?) -> String {
    switch element {
    case nil: "end"
    case .event(let event): "event \(event.server) \(event.name ?? "-") \(event.message["Uniqueid"] ?? "-")"
    case .loggedIn(let server, let banner): "loggedIn \(server) \(banner)"
    case .disconnected(let server, let reason): "disconnected \(server) \(reason.code)"
    }
}

/// Everything left in a finished stream.
private func drain(_ stream: AMIEventStream) async -> [String] {
    var labels: [String] = []
    for await element in stream { labels.append(label(element)) }
    return labels
}

/// Starts a consumer that asks for one batch, runs `producer` once it is about to ask, and
/// returns the batch (["end"] for nil).
private func withBatchConsumer(
    of stream: AMIEventStream,
    producer: @escaping @Sendable () -> Void
) async throws -> [String] {
    try await withThrowingTaskGroup(of: [String].self) { group in
        let (asking, signal) = AsyncStream<Void>.makeStream()
        group.addTask {
            signal.yield()
            return await stream.nextBatch()?.map(label) ?? ["end"]
        }
        for await _ in asking { break }
        producer()
        return try await group.next() ?? []
    }
}

/// Counts calls from any thread.
private final class Counter: Sendable {
    private let count = NIOLockedValueBox(0)
    var value: Int { count.withLockedValue { $0 } }
    func increment() { count.withLockedValue { $0 += 1 } }
}

/// Starts a consumer that takes `count` elements (nil included), runs `producer` once the consumer
/// is about to ask, and returns what the consumer got.
private func withConsumer(
    of stream: AMIEventStream,
    taking count: Int,
    producer: @escaping @Sendable () -> Void
) async throws -> [String] {
    try await withThrowingTaskGroup(of: [String].self) { group in
        let (asking, signal) = AsyncStream<Void>.makeStream()
        group.addTask {
            var iterator = stream.makeAsyncIterator()
            signal.yield()
            var labels: [String] = []
            for _ in 0..<count { labels.append(label(await iterator.next())) }
            return labels
        }
        for await _ in asking { break }
        producer()
        return try await group.next() ?? []
    }
}
