import NIOConcurrencyHelpers
import Synchronization

/// The line for connections, shared by a ``MariaDBPool`` and its clients (or owned by one client
/// on its own): ``MariaDBLeaseQueue`` behind a lock, with the waiting, the time limit and
/// cancellation around it.
///
/// A call holds its slot until its work has really finished on the connection's thread, not
/// merely until its caller stopped waiting: a connection stuck in a hung query stays taken (up to
/// its read timeout), and the calls that need one wait in line here, for a bounded time, instead
/// of queueing behind it.
final class MariaDBConnectionLeases: Sendable {
    typealias Request = MariaDBLeaseQueue<CheckedContinuation<Int, any Error>>.Request

    private let queue: NIOLockedValueBox<MariaDBLeaseQueue<CheckedContinuation<Int, any Error>>>
    private let nextWaiterID = Atomic<UInt64>(0)
    private let sleep: @Sendable (Duration) async throws -> Void

    init(slots: Int, clock: some Clock<Duration> = ContinuousClock()) {
        queue = NIOLockedValueBox(MariaDBLeaseQueue(slots: slots))
        sleep = { try await clock.sleep(for: $0) }
    }

    /// A slot for `request`: at once when one is idle, else the first one released within
    /// `limit`. Throws ``MariaDBError/Code/connectionUnavailable`` when none is, and
    /// `CancellationError` when the calling task is cancelled while waiting. The caller must
    /// ``release(_:)`` the slot it gets.
    func acquire(_ request: Request, within limit: Duration) async throws -> Int {
        if let slot = queue.withLockedValue({ $0.leaseIfIdle(request) }) { return slot }
        let id = nextWaiterID.add(1, ordering: .relaxed).newValue
        let slots = queue.withLockedValue { $0.slotCount }
        return try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask { try await self.waitInLine(id: id, request: request) }
            group.addTask {
                try? await self.sleep(limit)
                return nil
            }
            defer { group.cancelAll() }
            switch await group.nextResult() {
            case .success(let slot?)?: return slot
            case .failure(let error)?: throw error
            case .success(nil)?, nil: break
            }
            // Time is up (or this task was cancelled): leave the line, unless a slot came just now.
            group.cancelAll()
            while let result = await group.nextResult() {
                if case .success(let slot?) = result { return slot }
            }
            try Task.checkCancellation()
            let connections = slots == 1 ? "its connection" : "any of its \(slots) connections"
            throw MariaDBError(
                code: .connectionUnavailable,
                message: "waited \(limit) for \(connections): every one is busy with a call that has not ended (the database may be hung)"
            )
        }
    }

    /// The caller holding `slot` is done with its connection: the slot goes to the first call
    /// waiting for it, or becomes idle.
    func release(_ slot: Int) {
        switch queue.withLockedValue({ $0.released(slot: slot) }) {
        case .handOver(let slot, let waiter): waiter.resume(returning: slot)
        case .idle: break
        }
    }

    private func waitInLine(id: UInt64, request: Request) async throws -> Int {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let action = queue.withLockedValue { queue -> MariaDBLeaseQueue<CheckedContinuation<Int, any Error>>.EnqueueAction? in
                    // Checked under the lock: a cancellation after this point finds the waiter in line.
                    if Task.isCancelled { return nil }
                    return queue.waitRequested(id: id, request: request, waiter: continuation)
                }
                switch action {
                case .lease(let slot)?: continuation.resume(returning: slot)
                case nil: continuation.resume(throwing: CancellationError())
                case .wait?: break
                }
            }
        } onCancel: {
            queue.withLockedValue { $0.waitEnded(id: id) }?.resume(throwing: CancellationError())
        }
    }
}
