import Logging
import NIOCore
import Synchronization

/// What the AMI clients tell their consumer: events, and the session changes that matter to a
/// call tracker (after a reconnect it must reconcile with `CoreShowChannels`).
public enum AMIClientEvent: Sendable {
    case event(AMIEvent)
    case loggedIn(server: String, banner: String)
    /// A connection attempt or a session ended (refused connect, rejected login, lost socket).
    case disconnected(server: String, reason: AMIError)
}

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

/// The one stream all AMI clients write into and one consumer reads: a bounded buffer.
///
/// When the consumer falls behind and `capacity` events are waiting, a new event is not queued:
/// it is counted in ``droppedEvents``, logged (the first drop and every 1,000th), and the client
/// applies its overflow policy (by default it reconnects, so the tracker rebuilds the live calls
/// from `CoreShowChannels` instead of running on a silently incomplete history). Session changes
/// are always queued: there are at most a few per reconnect.
public final class AMIEventStream: AsyncSequence, Sendable {
    public typealias Element = AMIClientEvent

    private struct State {
        var buffer = CircularBuffer<AMIClientEvent>()
        var queuedEvents = 0
        var waiter: CheckedContinuation<AMIClientEvent?, Never>?
        var finished = false
        var dropped = 0
    }

    public let capacity: Int
    private let state = Mutex(State())
    private let logger: Logger

    public init(capacity: Int = 100_000, logger: Logger = Logger(label: "amibridge.ami")) {
        precondition(capacity > 0, "an event stream needs room for at least one event")
        self.capacity = capacity
        self.logger = logger
    }

    /// Events that did not fit since the stream was made.
    public var droppedEvents: Int { state.withLock { $0.dropped } }

    /// Events waiting for the consumer.
    public var queuedEvents: Int { state.withLock { $0.queuedEvents } }

    /// Queues an element; returns false when it was an event and the buffer was full.
    @discardableResult
    public func yield(_ element: AMIClientEvent) -> Bool {
        let isEvent: Bool
        if case .event = element { isEvent = true } else { isEvent = false }
        let outcome: (waiter: CheckedContinuation<AMIClientEvent?, Never>?, accepted: Bool, dropped: Int) = state.withLock { state in
            if state.finished { return (nil, false, state.dropped) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, true, state.dropped)
            }
            if isEvent {
                guard state.queuedEvents < capacity else {
                    state.dropped += 1
                    return (nil, false, state.dropped)
                }
                state.queuedEvents += 1
            }
            state.buffer.append(element)
            return (nil, true, state.dropped)
        }
        outcome.waiter?.resume(returning: element)
        if !outcome.accepted, isEvent, outcome.dropped % 1000 == 1 {
            logger.error("AMI event consumer is behind: event buffer full, events dropped", metadata: [
                "capacity": "\(capacity)", "dropped_total": "\(outcome.dropped)",
            ])
        }
        return outcome.accepted
    }

    /// Ends the stream; the consumer gets what is queued, then nil.
    public func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<AMIClientEvent?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.buffer.isEmpty ? state.waiter : nil
        }
        waiter?.resume(returning: nil)
    }

    private func next() async -> AMIClientEvent? {
        if let element = takeQueued() { return element }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<AMIClientEvent?, Never>) in
                let immediate: AMIClientEvent?? = state.withLock { state in
                    if let element = state.buffer.popFirst() {
                        if case .event = element { state.queuedEvents -= 1 }
                        return .some(element)
                    }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    precondition(state.waiter == nil, "AMIEventStream has exactly one consumer")
                    state.waiter = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    private func takeQueued() -> AMIClientEvent? {
        state.withLock { state in
            guard let element = state.buffer.popFirst() else { return nil }
            if case .event = element { state.queuedEvents -= 1 }
            return element
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let stream: AMIEventStream
        public mutating func next() async -> AMIClientEvent? { await stream.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: self) }
}
