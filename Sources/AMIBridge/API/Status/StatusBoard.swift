import CRMSink
import EventMapper
import NIOConcurrencyHelpers
import ViciDial

/// What the status page shows of calls: those in progress and those waiting for their ViciDial
/// row or disposition, fed by the pipeline's stages as they hand work on.
///
/// The stages only write: one lock per batch, a dictionary update per call, no I/O, no sorting.
/// The status route reads a copy (copy-on-write: the lock is held for a reference count) and
/// sorts it on its own thread, at most once per ``StatusService/refreshInterval``.
final class StatusBoard: Sendable {
    /// One call, as much as the page shows of it. The number is kept as read; the snapshot masks it.
    struct Call: Sendable, Equatable {
        var server: String
        var linkedid: String
        var startedAt: Double?
        var answeredAt: Double?
        /// The agent's channel (`SIP/1001-0000000a`), when the tracker knows which leg is the agent.
        var agent: String?
        var phoneNumber: String?
        var callID: String?
        /// Ended; no longer in progress, waiting for its hold to be stored.
        var ended = false
        var waitingFor: HeldCall.Kind?
        var waitingSince: Double?
        var deadline: Double?

        init(_ record: CallRecord) {
            server = record.server
            linkedid = record.linkedid
            startedAt = record.startedAt
            answeredAt = record.answeredAt
            agent = record.agentLeg?.channel
            phoneNumber = record.phoneNumber
            callID = record.callID
        }

        /// A held call from what the outbox stores of it; by its key alone if that cannot be read.
        init(decoding hold: HeldCall) {
            let record = hold.kind == .disposition ? hold.decoded(as: EnrichedCall.self)?.call : hold.decoded(as: CallRecord.self)
            self = record.map(Call.init) ?? Call(key: hold.callKey)
        }

        /// A held call known only by its key.
        init(key: String) {
            let slash = key.lastIndex(of: "/")
            server = slash.map { String(key[..<$0]) } ?? key
            linkedid = slash.map { String(key[key.index(after: $0)...]) } ?? ""
        }
    }

    struct Calls: Sendable {
        /// Keyed by the call's key (`server/linkedid`, as in the outbox).
        var live: [String: Call] = [:]
        var held: [String: Call] = [:]
    }

    /// Beyond this many calls in one table new ones are counted, not kept: the page stays cheap
    /// whatever a storm does. Far above what one bridge follows.
    static let capacity = 100_000

    /// With a ViciDial database, completed calls are held next (for their row): the board keeps
    /// them until the emit stage has stored that hold, so they move with their details.
    let completedCallsAreHeld: Bool
    private let calls = NIOLockedValueBox(Calls())

    init(completedCallsAreHeld: Bool) {
        self.completedCallsAreHeld = completedCallsAreHeld
    }

    var snapshot: Calls { calls.withLockedValue { $0 } }

    /// From the emit stage, for each batch the tracker hands on.
    func apply(_ batch: [CallUpdate]) {
        calls.withLockedValue { calls in
            for update in batch {
                switch update {
                case .started(let record), .answered(let record), .progressed(let record, _):
                    let key = record.key
                    if calls.live[key] != nil || calls.live.count < Self.capacity { calls.live[key] = Call(record) }
                case .completed(let record):
                    // A click-to-call without a lead_id is not held: no ViciDial row will come.
                    if completedCallsAreHeld, record.clickToCall?.expectsViciDialRow ?? true, calls.live[record.key] != nil {
                        calls.live[record.key]?.ended = true
                    } else {
                        calls.live.removeValue(forKey: record.key)
                    }
                case .originateTimedOut, .outage, .userEvent:
                    break
                }
            }
        }
    }

    /// From the pipeline's outbox, once a batch of holds and releases is on disk. Holds first: a
    /// call leaving its row wait for its disposition wait is released from the one and held in
    /// the other in the same batch.
    func stored(holding holds: [HeldCall], releasing releases: [HeldCall.ID], at now: Double) {
        guard !holds.isEmpty || !releases.isEmpty else { return }
        calls.withLockedValue { calls in
            for hold in holds {
                // A call the board never saw live (one an outage sweep found in ViciDial's tables):
                // its details from the stored payload, decoded on this rare path only.
                let call = calls.live.removeValue(forKey: hold.callKey) ?? calls.held[hold.callKey] ?? Call(decoding: hold)
                Self.hold(call, hold, since: now, in: &calls)
            }
            for release in releases where calls.held[release.callKey]?.waitingFor == release.kind {
                calls.held.removeValue(forKey: release.callKey)
            }
        }
    }

    /// At start, the calls held at the last stop, read back from the outbox (once: the stages
    /// decode them too). Their wait began before this process; `since` is unknown.
    func resumed(_ holds: [HeldCall]) {
        calls.withLockedValue { calls in
            for hold in holds { Self.hold(Call(decoding: hold), hold, since: nil, in: &calls) }
        }
    }

    private static func hold(_ call: Call, _ hold: HeldCall, since: Double?, in calls: inout Calls) {
        guard calls.held[hold.callKey] != nil || calls.held.count < capacity else { return }
        var call = call
        call.ended = true
        call.waitingFor = hold.kind
        call.waitingSince = since
        call.deadline = hold.deadline
        calls.held[hold.callKey] = call
    }
}
