@testable import AMIBridge
import Synchronization
import Testing

/// The hand-off between pipeline stages: batches in order, a full queue holds the sender back
/// instead of dropping, and the end of the input reaches the consumer after what was queued.
@Suite struct StageQueueTests {
    @Test func theConsumerTakesEverythingQueuedAtOnceInOrder() async {
        let queue = StageQueue<Int>(capacity: 100)
        await queue.send([1, 2])
        await queue.send([3])
        #expect(await queue.nextBatch() == [1, 2, 3])
        #expect(queue.count == 0)
    }

    @Test func aParkedConsumerIsHandedTheNextBatch() async {
        let queue = StageQueue<Int>(capacity: 10)
        async let taken = queue.nextBatch()
        // The consumer may or may not be parked yet: either way it gets exactly this batch.
        await queue.send([7, 8])
        #expect(await taken == [7, 8])
    }

    @Test func aFullQueueHoldsTheSenderUntilTheConsumerTakes() async {
        let queue = StageQueue<Int>(capacity: 2)
        await queue.send([1, 2])
        let sent = Atomic<Bool>(false)
        let sender = Task {
            await queue.send([3])
            sent.store(true, ordering: .sequentiallyConsistent)
        }
        // Nothing of the third send is queued while the queue is full.
        for _ in 0..<100 { await Task.yield() }
        #expect(queue.count == 2)
        let sentWhileFull = sent.load(ordering: .sequentiallyConsistent)
        #expect(!sentWhileFull)
        #expect(await queue.nextBatch() == [1, 2])
        await sender.value
        let sentAfterTaking = sent.load(ordering: .sequentiallyConsistent)
        #expect(sentAfterTaking)
        #expect(await queue.nextBatch() == [3])
    }

    @Test func finishDeliversWhatIsQueuedThenTheEnd() async {
        let queue = StageQueue<Int>(capacity: 10)
        await queue.send([1])
        queue.finish()
        #expect(await queue.nextBatch() == [1])
        #expect(await queue.nextBatch() == nil)
    }

    @Test func finishWakesAParkedConsumer() async {
        let queue = StageQueue<Int>(capacity: 10)
        async let taken = queue.nextBatch()
        queue.finish()
        #expect(await taken == nil)
    }

    @Test func finishReleasesABlockedSender() async {
        let queue = StageQueue<Int>(capacity: 1)
        await queue.send([1])
        let sender = Task { await queue.send([2]) }
        queue.finish()
        await sender.value // returns instead of waiting forever
        #expect(await queue.nextBatch() == [1])
        #expect(await queue.nextBatch() == nil)
    }
}

extension StageQueueTests {
    @Test func aCancelledConsumerStopsWaiting() async {
        let queue = StageQueue<Int>(capacity: 10)
        let consumer = Task { await queue.nextBatch() }
        consumer.cancel()
        #expect(await consumer.value == nil)
        // The queue still works for a consumer that comes later.
        await queue.send([1])
        #expect(await queue.nextBatch() == [1])
    }
}
