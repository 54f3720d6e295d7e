import EventMapper
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import ViciDial

/// Every click-to-call the API placed, as `GET /v1/calls/{id}` shows it, fed by the call tracker's
/// updates; and the `Idempotency-Key`s that map a retried request to the call it already placed.
///
/// In memory and bounded: calls are forgotten after the retention time or beyond the most
/// remembered, oldest first. What must survive a restart (the outcome) goes out as webhooks
/// through the durable outbox; this is the live view.
final class ClickToCallRegistry: Sendable {
    struct Limits: Sendable {
        var retention: Duration
        var maximumCalls: Int
    }

    /// What `reserve` found for an idempotency key.
    enum Reservation: Sendable {
        /// A new call: place it.
        case new(callID: String)
        /// The same request came before: answer with its call, dial nothing.
        case existing(ClickToCallStatus)
        /// The key was used for a different request.
        case conflict(callID: String)
    }

    private struct State {
        var calls: [String: ClickToCallStatus] = [:]
        /// Call ids oldest first, for forgetting.
        var order = CircularBuffer<(callID: String, createdAt: Date)>()
        /// `<api key id> <Idempotency-Key>` → the request it was first used with and its call.
        var idempotency: [String: (request: ClickToCallRequest, callID: String)] = [:]
        var idempotencyKeyOfCall: [String: String] = [:]
    }

    private let state = NIOLockedValueBox(State())
    private let limits: Limits
    private let now: @Sendable () -> Date

    init(limits: Limits, now: @escaping @Sendable () -> Date = { Date() }) {
        self.limits = limits
        self.now = now
    }

    /// A new call id, or the call an earlier identical request with the same key placed.
    func reserve(_ request: ClickToCallRequest, idempotencyKey: String?) -> Reservation {
        let callID = UUID().uuidString.lowercased()
        guard let idempotencyKey else { return .new(callID: callID) }
        return state.withLockedValue { state in
            if let earlier = state.idempotency[idempotencyKey] {
                guard earlier.request == request else { return .conflict(callID: earlier.callID) }
                if let call = state.calls[earlier.callID] { return .existing(call) }
                // Reserved by a request still being placed: it answers with the same id.
                return .existing(Self.placeholder(callID: earlier.callID, request: request, at: now()))
            }
            state.idempotency[idempotencyKey] = (request, callID)
            state.idempotencyKeyOfCall[callID] = idempotencyKey
            return .new(callID: callID)
        }
    }

    /// Records a placed call (status queued).
    func insert(_ call: ClickToCallStatus) {
        let time = now()
        state.withLockedValue { state in
            state.calls[call.callID] = call
            state.order.append((call.callID, call.createdAt))
            forgetOld(&state, at: time)
        }
    }

    /// Forgets a call that was never placed (AMI down), so a retry with the same key dials.
    func discard(_ callID: String) {
        state.withLockedValue { state in
            state.calls[callID] = nil
            if let key = state.idempotencyKeyOfCall.removeValue(forKey: callID) { state.idempotency[key] = nil }
        }
    }

    func status(_ callID: String) -> ClickToCallStatus? {
        state.withLockedValue { $0.calls[callID] }
    }

    func update(_ callID: String, _ body: (inout ClickToCallStatus) -> Void) -> ClickToCallStatus? {
        state.withLockedValue { state in
            guard state.calls[callID] != nil else { return nil }
            body(&state.calls[callID]!)
            return state.calls[callID]
        }
    }

    var count: Int { state.withLockedValue { $0.calls.count } }

    /// What the request of `callID` said, while the call is remembered.
    func origin(_ callID: String) -> ClickToCallOrigin? {
        state.withLockedValue { $0.calls[callID]?.origin }
    }

    /// `update` with what its click-to-call request said, for the updates that become webhooks.
    func withOrigin(_ update: CallUpdate) -> CallUpdate {
        switch update {
        case .answered(let record): .answered(withOrigin(record))
        case .completed(let record): .completed(withOrigin(record))
        case .started, .progressed, .originateTimedOut, .outage, .userEvent: update
        }
    }

    /// `record` with what its click-to-call request said, when it is one this API placed.
    func withOrigin(_ record: CallRecord) -> CallRecord {
        guard record.clickToCall == nil, let callID = record.callID, let origin = origin(callID) else { return record }
        var record = record
        record.clickToCall = origin
        return record
    }

    /// Channels to hang up now: a `DELETE` came before the call had any.
    struct DeferredHangup: Sendable, Equatable {
        var callID: String
        var server: String
        var channels: [String]
    }

    /// Follows the tracker: each update of a call this API placed moves its status on. Returns
    /// the hangups that were asked for before the call had a channel and can go out now.
    @discardableResult
    func apply(_ update: CallUpdate) -> [DeferredHangup] {
        let time = now()
        switch update {
        case .started(let record), .answered(let record):
            guard let callID = record.callID else { return [] }
            return deferredHangup(callID) { $0.absorb(record); $0.updatedAt = time }
        case .progressed(let record, let stage):
            guard let callID = record.callID else { return [] }
            return deferredHangup(callID) { $0.absorb(record); $0.reach(stage, at: time) }
        case .completed(let record):
            guard let callID = record.callID else { return [] }
            _ = self.update(callID) { call in
                call.absorb(record)
                call.reason = record.outcome == .answered ? nil : record.outcome?.rawValue
                call.reach(ClickToCallStage(ended: record.outcome), at: time)
            }
        case .originateTimedOut(_, let callID, _):
            _ = self.update(callID) { call in
                guard !call.status.isFinal else { return }
                call.reason = "timeout"
                call.reach(.failed, at: time)
            }
        case .outage, .userEvent:
            break
        }
        return []
    }

    /// Applies `body`, then: a hangup asked for early whose call now has channels goes out once.
    private func deferredHangup(_ callID: String, _ body: (inout ClickToCallStatus) -> Void) -> [DeferredHangup] {
        var due: DeferredHangup?
        _ = update(callID) { call in
            body(&call)
            guard call.hangupRequested, !call.hangupSent, !call.liveChannels.isEmpty, !call.status.isFinal else { return }
            call.hangupSent = true
            due = DeferredHangup(callID: call.callID, server: call.server, channels: call.liveChannels)
        }
        return due.map { [$0] } ?? []
    }

    /// The agent's disposition, once ViciDial has it (from the `disposition_set` webhook).
    func dispositionSet(callID: String, disposition: String?) {
        let time = now()
        _ = update(callID) { $0.disposition = disposition; $0.updatedAt = time }
    }

    private func forgetOld(_ state: inout State, at time: Date) {
        let cutoff = time.addingTimeInterval(-Double(limits.retention.components.seconds))
        while let oldest = state.order.first, state.order.count > limits.maximumCalls || oldest.createdAt < cutoff {
            state.order.removeFirst()
            state.calls[oldest.callID] = nil
            if let key = state.idempotencyKeyOfCall.removeValue(forKey: oldest.callID) { state.idempotency[key] = nil }
        }
    }

    private static func placeholder(callID: String, request: ClickToCallRequest, at date: Date) -> ClickToCallStatus {
        ClickToCallStatus(
            callID: callID, status: .queued, agentChannel: "", phoneNumber: request.phoneNumber.description,
            campaignID: request.campaignID, leadID: request.leadID, server: "", createdAt: date, updatedAt: date, stages: [:]
        )
    }
}
