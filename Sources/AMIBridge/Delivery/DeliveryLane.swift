import CRMSink
import EventLog
import Foundation

/// One lane's queue: the fetcher pushes (blocking while the lane is full, so a slow endpoint slows
/// the fetching instead of filling memory), the lane's thread pops in order.
final class DeliveryLane: @unchecked Sendable {
    // @unchecked: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var items: [StreamItem] = []
    private var head = 0
    private var finished = false
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func push(_ item: StreamItem) {
        condition.lock()
        defer { condition.unlock() }
        while items.count - head >= capacity && !finished { condition.wait() }
        items.append(item)
        condition.broadcast()
    }

    /// The next item; nil once finished and empty.
    func pop() -> StreamItem? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count {
            if finished { return nil }
            condition.wait()
        }
        let item = items[head]
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return item
    }

    /// No more pushes: `pop` returns what is left, then nil.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A message of the event log and what a delivery needs of its body: the event, its id, its call.
struct StreamItem: @unchecked Sendable {
    // @unchecked: the message has one owner at a time (the fetcher, then its lane).
    let message: JetStreamMessage
    let event: String
    /// Nil for an event this version does not know: no endpoint takes it.
    let name: WebhookEvent.Name?
    let eventID: UUID
    let callKey: String
    let campaignID: String?

    init(message: JetStreamMessage) {
        self.message = message
        // The subject's last token is the event (`amibridge.<server>.<event>`); the body says it too.
        let fields = (try? JSONDecoder().decode(Fields.self, from: Data(message.body))) ?? Fields()
        self.event = fields.event ?? String(message.subject.split(separator: ".").last ?? "")
        self.name = WebhookEvent.Name(rawValue: event)
        self.eventID = message.msgID.flatMap(UUID.init(uuidString:)) ?? fields.eventID.flatMap(UUID.init(uuidString:)) ?? UUID()
        let call = fields.linkedid ?? fields.uniqueid ?? fields.click2callID ?? self.eventID.uuidString.lowercased()
        self.callKey = "\(fields.server ?? "")/\(call)"
        self.campaignID = fields.campaignID
    }

    /// The fields read from the body; the rest is sent as it is.
    private struct Fields: Decodable {
        var event: String?
        var eventID: String?
        var server: String?
        var linkedid: String?
        var uniqueid: String?
        var click2callID: String?
        var campaignID: String?

        enum CodingKeys: String, CodingKey {
            case event, server, linkedid, uniqueid
            case eventID = "event_id", click2callID = "click2call_id", campaignID = "campaign_id"
        }
    }

    /// The delivery for `endpoint`, or nil if the endpoint does not take this event.
    func delivery(for endpoint: WebhookEndpoint.Configuration) -> OutboxDelivery? {
        guard let name, endpoint.events.contains(name) else { return nil }
        if !endpoint.campaigns.isEmpty {
            guard let campaignID, endpoint.campaigns.contains(campaignID) else { return nil }
        }
        return OutboxDelivery(
            id: Int64(message.streamSequence), eventID: eventID, event: event, endpoint: endpoint.name, callKey: callKey,
            requestURL: nil, body: message.body, attempts: Int(message.deliveries), createdAt: message.storedAt
        )
    }

    /// As a row of the outbox (a dead letter of an event `delivery(for:)` gave).
    func newDelivery(for endpoint: WebhookEndpoint.Configuration, name: WebhookEvent.Name) -> OutboxNewDelivery {
        OutboxNewDelivery(
            eventID: eventID, event: name, endpoint: endpoint.name, callKey: callKey,
            requestURL: nil, body: message.body
        )
    }
}
