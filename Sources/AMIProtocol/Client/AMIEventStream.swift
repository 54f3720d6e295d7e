import Logging
import NIOConcurrencyHelpers
import NIOCore

/// What the AMI clients tell their consumer: events, and the session changes that matter to a
/// call tracker (after a reconnect it must reconcile with `CoreShowChannels`).
public enum AMIClientEvent: Sendable {
    case event(AMIEvent)
    case loggedIn(server: String, banner: String)
    /// A connection attempt or a session ended (refused connect, rejected login, lost socket).
    case disconnected(server: String, reason: AMIError)
}

/// Elements taken together by ``AMIEventStream/nextBatch(limit:)``, oldest first.
public typealias AMIEventBatch = CircularBuffer<AMIClientEvent>

/// An event from one named server.
public struct AMIEvent: Sendable {
    /// The configured name of the server it came from (a ViciDial cluster has several dialers).
    public var server: String
    public var message: AMIMessage
    /// When the event was read from the socket (seconds since 1970): the consumer may process it
    /// later, but call times are measured from arrival.
    public var receivedAt: Double

    public init(server: String, message: AMIMessage, receivedAt: Double) {
        self.server = server
        self.message = message
        self.receivedAt = receivedAt
    }

    public var name: String? { message.eventName }
}

/// The one stream all AMI clients write into and one consumer reads.
///
/// Nothing is lost when the consumer falls behind: an AMI connection queues its events as a
/// ``Source``, and once `capacity` events are waiting it is told to ``Demand/pause``: it stops
/// reading its socket, so TCP flow control holds Asterisk back, until the consumer has drained
/// the stream to ``resumeThreshold``. A read already in progress still delivers its events (at
/// most one socket read beyond `capacity`). Session changes are always queued: there are at most
/// a few per reconnect, and the tracker must see every one.
///
/// ``yield(_:)`` without a source is for producers that cannot pause (a one-shot `check` that
/// ignores events): events beyond `capacity` are dropped, counted in ``droppedEvents`` and logged.
///
/// The consumer takes events in batches (``nextBatch(limit:)``), one lock per batch; a producer
/// takes one lock per event. A parked consumer is woken once per socket read (a source's
/// ``flush()``), not once per event: waking a thread costs more than tracking a hundred events.
public final class AMIEventStream: AsyncSequence, Sendable {
    public typealias Element = AMIClientEvent

    /// What a ``Source`` must do after queuing an event.
    public enum Demand: Sendable, Equatable {
        /// Keep reading.
        case more
        /// The stream holds `capacity` events: stop reading until the source's `resume` is called.
        case pause
    }

    /// A producer that can stop reading (an AMI connection); made by ``makeSource(resume:)``.
    public struct Source: Sendable {
        fileprivate let id: Int
        fileprivate let resume: @Sendable () -> Void
    }

    private struct State {
        static let firstCapacity = 1024
        var buffer = AMIEventBatch(initialCapacity: firstCapacity)
        /// The capacity of the next buffer handed to the producers (see `takeBatch`).
        var freshCapacity = firstCapacity
        var queuedEvents = 0
        /// The consumer, parked until an element is queued or the stream finishes.
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
        var dropped = 0
        var pauses = 0
        var nextSourceID = 0
        /// Sources told to pause, by id, with what resumes them.
        var paused: [Int: @Sendable () -> Void] = [:]

        /// The waiter to wake after queuing an element (outside the lock).
        mutating func takeWaiter() -> CheckedContinuation<Void, Never>? {
            guard let waiter else { return nil }
            self.waiter = nil
            return waiter
        }

        /// The sources to resume now that the consumer took some events (called outside the lock).
        mutating func sourcesToResume(threshold: Int) -> [@Sendable () -> Void] {
            guard !paused.isEmpty, queuedEvents <= threshold else { return [] }
            defer { paused.removeAll() }
            return Array(paused.values)
        }
    }

    /// Events queued before sources are told to pause (and beyond which ``yield(_:)`` drops).
    public let capacity: Int
    /// Paused sources resume once the consumer has drained the stream to this many events.
    public let resumeThreshold: Int
    private let state = NIOLockedValueBox(State())
    private let logger: Logger

    /// - Parameters:
    ///   - capacity: events queued before sources pause.
    ///   - resumeThreshold: paused sources resume at or below this many queued events (default
    ///     half the capacity: a source that resumes has room for many reads before it pauses again).
    public init(capacity: Int = 100_000, resumeThreshold: Int? = nil, logger: Logger = Logger(label: "amibridge.ami")) {
        precondition(capacity > 0, "an event stream needs room for at least one event")
        self.capacity = capacity
        self.resumeThreshold = Swift.min(Swift.max(resumeThreshold ?? capacity / 2, 0), capacity - 1)
        self.logger = logger
    }

    /// Events refused by ``yield(_:)`` because the stream was full. Sources never lose events.
    public var droppedEvents: Int { state.withLockedValue { $0.dropped } }

    /// Events waiting for the consumer.
    public var queuedEvents: Int { state.withLockedValue { $0.queuedEvents } }

    /// How often a source was told to pause (a measure of how far behind the consumer runs).
    public var pauseCount: Int { state.withLockedValue { $0.pauses } }

    // MARK: - Producers

    /// Registers a producer that stops reading when told to; `resume` is called (from the
    /// consumer's task, once per pause) when it may read again, and must hop to its own thread.
    public func makeSource(resume: @escaping @Sendable () -> Void) -> Source {
        state.withLockedValue { state in
            state.nextSourceID += 1
            return Source(id: state.nextSourceID, resume: resume)
        }
    }

    /// Queues an element from a source; never drops it, and does not wake the consumer: the
    /// source calls ``flush()`` when its read ends. Returns ``Demand/pause`` once `capacity`
    /// events are queued: the source must stop reading until its `resume` runs. After
    /// ``finish()`` elements are discarded (nobody will read them) and the answer is `more`.
    public func yield(_ element: AMIClientEvent, from source: Source) -> Demand {
        state.withLockedValue { state in
            if state.finished { return .more }
            state.buffer.append(element)
            guard case .event = element else { return .more }
            state.queuedEvents += 1
            guard state.queuedEvents >= capacity else { return .more }
            if state.paused.updateValue(source.resume, forKey: source.id) == nil { state.pauses += 1 }
            return .pause
        }
    }

    /// Whether the source was told to pause and has not been resumed since: a resume that
    /// arrives after the source paused again (events of the same read filled the stream anew)
    /// is stale, and the next one will come.
    public func isPaused(_ source: Source) -> Bool {
        state.withLockedValue { $0.paused[source.id] != nil }
    }

    /// Wakes the consumer if it is parked and something is queued: a source calls it at the end
    /// of each socket read, after yielding that read's events.
    public func flush() {
        let waiter = state.withLockedValue { state in
            state.buffer.isEmpty ? nil : state.takeWaiter()
        }
        waiter?.resume()
    }

    /// Queues an element from a producer that cannot pause; returns false when it was an event
    /// and `capacity` events were already queued (it is dropped and counted), or the stream is
    /// finished. Session changes always fit.
    @discardableResult
    public func yield(_ element: AMIClientEvent) -> Bool {
        let isEvent: Bool
        if case .event = element { isEvent = true } else { isEvent = false }
        let (waiter, accepted, dropped): (CheckedContinuation<Void, Never>?, Bool, Int) = state.withLockedValue { state in
            if state.finished { return (nil, false, state.dropped) }
            if isEvent {
                guard state.queuedEvents < capacity else {
                    state.dropped += 1
                    return (nil, false, state.dropped)
                }
                state.queuedEvents += 1
            }
            state.buffer.append(element)
            return (state.takeWaiter(), true, state.dropped)
        }
        waiter?.resume()
        if !accepted, isEvent, dropped % 1000 == 1 {
            logger.error("AMI event consumer is behind: event buffer full, events dropped", metadata: [
                "capacity": "\(capacity)", "dropped_total": "\(dropped)",
            ])
        }
        return accepted
    }

    /// Ends the stream; the consumer gets what is queued, then nil. Paused sources are resumed:
    /// nothing will drain the stream any more.
    public func finish() {
        let (waiter, resumes) = state.withLockedValue { state in
            state.finished = true
            defer { state.paused.removeAll() }
            return (state.takeWaiter(), Array(state.paused.values))
        }
        waiter?.resume()
        for resume in resumes { resume() }
    }

    // MARK: - The consumer

    /// Waits until at least one element is queued, then returns all queued elements up to
    /// `limit`, oldest first. Nil once the stream is finished and drained, or when the calling
    /// task is cancelled while waiting. One consumer at a time.
    ///
    /// The batch is the stream's own buffer, handed over whole when everything queued fits:
    /// copying events into an array would retain and release every one of them.
    public func nextBatch(limit: Int = 4096) async -> AMIEventBatch? {
        precondition(limit > 0, "a batch holds at least one element")
        while true {
            switch takeBatch(limit: limit) {
            case .elements(let batch): return batch
            case .finished: return nil
            case .empty: break
            }
            guard await waitForElements() else { return nil }
        }
    }

    private enum Taken {
        case elements(AMIEventBatch)
        case finished
        case empty
    }

    private func takeBatch(limit: Int) -> Taken {
        let (taken, resumes): (Taken, [@Sendable () -> Void]) = state.withLockedValue { state in
            if state.buffer.isEmpty { return (state.finished ? .finished : .empty, []) }
            if state.buffer.count <= limit {
                // The producers get a fresh buffer sized for the batches of late. A new buffer writes
                // every slot (nil) before its first event: a fixed 1,024 slots cost more than tracking
                // a batch of 60 events. One too small for a burst doubles, copying, as it fills; so
                // the size follows a burst at once and shrinks back slowly after it.
                let whole = state.buffer
                state.freshCapacity = Swift.max(64, whole.count, state.freshCapacity - state.freshCapacity / 8)
                state.buffer = CircularBuffer(initialCapacity: state.freshCapacity)
                state.queuedEvents = 0
                return (.elements(whole), state.sourcesToResume(threshold: resumeThreshold))
            }
            var batch = AMIEventBatch(initialCapacity: limit)
            for _ in 0..<limit {
                let element = state.buffer.removeFirst()
                if case .event = element { state.queuedEvents -= 1 }
                batch.append(element)
            }
            return (.elements(batch), state.sourcesToResume(threshold: resumeThreshold))
        }
        for resume in resumes { resume() }
        return taken
    }

    /// One element for the `AsyncSequence` consumer.
    private func next() async -> AMIClientEvent? {
        while true {
            let (element, finished, resumes): (AMIClientEvent?, Bool, [@Sendable () -> Void]) = state.withLockedValue { state in
                guard let element = state.buffer.popFirst() else { return (nil, state.finished, []) }
                if case .event = element { state.queuedEvents -= 1 }
                return (element, false, state.sourcesToResume(threshold: resumeThreshold))
            }
            for resume in resumes { resume() }
            if let element { return element }
            if finished { return nil }
            guard await waitForElements() else { return nil }
        }
    }

    /// Parks the consumer until an element is queued or the stream finishes; false when the task
    /// is cancelled.
    private func waitForElements() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let parked = state.withLockedValue { state in
                    if !state.buffer.isEmpty || state.finished || Task.isCancelled { return false }
                    precondition(state.waiter == nil, "AMIEventStream has exactly one consumer")
                    state.waiter = continuation
                    return true
                }
                if !parked { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLockedValue { $0.takeWaiter() }
            waiter?.resume()
        }
        return !Task.isCancelled
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let stream: AMIEventStream
        public mutating func next() async -> AMIClientEvent? { await stream.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: self) }
}
