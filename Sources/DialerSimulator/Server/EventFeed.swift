import NIOConcurrencyHelpers
import NIOCore

/// The one event stream every logged-in client receives, as every manager session of one
/// Asterisk sees the same events: a client gets what is published from its login on.
///
/// Each client has its own bounded queue; a client that falls that far behind is cut off (its
/// stream ends, the session closes the connection, it reconnects), so a stuck client never
/// grows this process's memory or holds up the others.
final class EventFeed: Sendable {
    private let subscribers = NIOLockedValueBox<[Int: AsyncStream<ByteBuffer>.Continuation]>([:])
    private let nextID = NIOLockedValueBox(0)
    let queueLimit: Int

    init(queueLimit: Int) { self.queueLimit = queueLimit }

    var subscriberCount: Int { subscribers.withLockedValue { $0.count } }

    /// A new client's stream; ``unsubscribe(_:)`` when it leaves.
    func subscribe() -> (id: Int, stream: AsyncStream<ByteBuffer>) {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingOldest(queueLimit))
        let id = nextID.withLockedValue { value in
            defer { value += 1 }
            return value
        }
        subscribers.withLockedValue { $0[id] = continuation }
        return (id, stream)
    }

    func unsubscribe(_ id: Int) {
        subscribers.withLockedValue { $0.removeValue(forKey: id) }?.finish()
    }

    /// Hands `text` to every client's queue; never waits.
    func publish(_ text: String) {
        guard !text.isEmpty else { return }
        let buffer = ByteBuffer(string: text)
        let current = subscribers.withLockedValue { $0 }
        for (id, continuation) in current {
            if case .dropped = continuation.yield(buffer) { unsubscribe(id) }
        }
    }

    func finishAll() {
        let all = subscribers.withLockedValue { current in
            defer { current = [:] }
            return current
        }
        for continuation in all.values { continuation.finish() }
    }
}
