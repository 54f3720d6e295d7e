/// Which events go to the event log (NATS JetStream) and under which subject:
/// `<prefix>.<server>.<event>`, e.g. `amibridge.dialer1.call_complete`.
///
/// Every event is published once, in the form endpoints without `wait_for_disposition` get it:
/// the `call_complete` at the hangup (or the end of the row wait), then `disposition_set`. The
/// later `call_complete` made only for endpoints that wait for the disposition has the same
/// `event_id` (it is the same event) and is not published again.
public struct EventLogRoute: Sendable, Equatable {
    /// The first subject token(s). Default `amibridge`.
    public var subjectPrefix: String

    public init(subjectPrefix: String = "amibridge") {
        self.subjectPrefix = subjectPrefix
    }

    public func subject(server: String?, event: WebhookEvent.Name) -> String {
        "\(subjectPrefix).\(Self.token(server ?? "unknown")).\(Self.token(event.rawValue))"
    }

    public func publication(of event: WebhookEvent) -> OutboxNewPublication? {
        if case .waitingForDisposition = event.recipients { return nil }
        return OutboxNewPublication(eventID: event.eventID, subject: subject(server: event.server, event: event.name), body: event.jsonBody())
    }

    /// A NATS subject token: no dot, space, wildcard or control character (a server named
    /// `dialer.1` becomes `dialer_1`). Also what names an endpoint's consumer.
    public static func token(_ text: String) -> String {
        let mapped = String(text.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_": Character(scalar)
            default: "_"
            }
        })
        return mapped.isEmpty ? "_" : mapped
    }
}
