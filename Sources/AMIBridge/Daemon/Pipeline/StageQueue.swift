import NIOConcurrencyHelpers

/// The bounded hand-off between two pipeline stages: the stage before ``send(_:)``s batches, the
/// stage after takes everything queued at once with ``nextBatch()``. A full queue suspends the
/// sender (backpressure reaches the AMI sockets, whose TCP window then holds Asterisk) instead
/// of dropping: nothing a call needs is ever thrown away here.
final class StageQueue<Element: Sendable>: Sendable {
    private enum SendStep { case queued(CheckedContinuation<[Element]?, Never>?), full }
    private enum TakeStep { case batch([Element], [CheckedContinuation<Void, Never>]), end, parked }

    private struct State {
        var buffer: [Element] = []
        var consumer: CheckedContinuation<[Element]?, Never>?
        var blockedSenders: [CheckedContinuation<Void, Never>] = []
        var finished = false
    }

    /// Elements queued before a sender waits. A batch is never split: it may overshoot by one batch.
    let capacity: Int
    private let state = NIOLockedValueBox(State())

    init(capacity: Int) {
        precondition(capacity > 0, "a stage queue needs room for at least one element")
        self.capacity = capacity
    }

    /// Elements waiting for the next stage.
    var count: Int { state.withLockedValue { $0.buffer.count } }

    /// Queues `elements`, first waiting while the queue is full. After ``finish()`` they are
    /// dropped: the receiving stage has stopped (the daemon is exiting).
    func send(_ elements: [Element]) async {
        guard !elements.isEmpty else { return }
        while true {
            let step: SendStep = state.withLockedValue { state in
                if state.finished { return .queued(nil) }
                guard state.buffer.count < capacity else { return .full }
                if let consumer = state.consumer {
                    state.consumer = nil
                    return .queued(consumer)
                }
                state.buffer += elements
                return .queued(nil)
            }
            switch step {
            case .queued(let consumer):
                consumer?.resume(returning: elements)
                return
            case .full:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLockedValue { state in
                        if state.finished || state.buffer.count < capacity { return true }
                        state.blockedSenders.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    /// Everything queued, waiting for at least one element; nil once finished and drained, or
    /// when the waiting task is cancelled (a cancelled stage stops; what is queued stays queued).
    func nextBatch() async -> [Element]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[Element]?, Never>) in
                let step: TakeStep = state.withLockedValue { state in
                    if !state.buffer.isEmpty {
                        let batch = state.buffer
                        state.buffer.removeAll(keepingCapacity: true)
                        let senders = state.blockedSenders
                        state.blockedSenders.removeAll()
                        return .batch(batch, senders)
                    }
                    if state.finished || Task.isCancelled { return .end }
                    precondition(state.consumer == nil, "a stage queue has exactly one consumer")
                    state.consumer = continuation
                    return .parked
                }
                switch step {
                case .batch(let batch, let senders):
                    for sender in senders { sender.resume() }
                    continuation.resume(returning: batch)
                case .end:
                    continuation.resume(returning: nil)
                case .parked:
                    break
                }
            }
        } onCancel: {
            let consumer = state.withLockedValue { state in
                defer { state.consumer = nil }
                return state.consumer
            }
            consumer?.resume(returning: nil)
        }
    }

    /// No more elements: the consumer gets what is queued, then nil; waiting senders return.
    func finish() {
        let (consumer, senders) = state.withLockedValue { state in
            state.finished = true
            let consumer = state.buffer.isEmpty ? state.consumer : nil
            if consumer != nil { state.consumer = nil }
            let senders = state.blockedSenders
            state.blockedSenders.removeAll()
            return (consumer, senders)
        }
        consumer?.resume(returning: nil)
        for sender in senders { sender.resume() }
    }
}
