import Crypto
import Foundation

/// Event ids are derived from what the event is about, not drawn at random: the same call's
/// `call_complete` has the same `event_id` however often it is produced, after a crash between
/// tracking and commit, a re-joined held call, or two bridges watching the same dialer. Receivers
/// (and a NATS stream's duplicate window) dedupe on it.
extension WebhookEvent {
    /// The namespace of amibridge's UUIDv5 event ids (a fixed random UUID).
    static let eventIDNamespace = UUID(uuidString: "3f0d5a7e-9c41-4b8e-a4f3-6d2b1c8e7a90")!

    /// A UUIDv5 (RFC 9562) of `server`, `subject` (the call's Linkedid, or a click-to-call id),
    /// the event name and `discriminator` (what tells apart several events of one name in one
    /// call, such as a UserEvent's sequence; empty when a call has at most one).
    public static func eventID(server: String, subject: String, name: Name, discriminator: String = "") -> UUID {
        let text = [server, subject, name.rawValue, discriminator].joined(separator: "\u{1F}")
        return uuidV5(namespace: eventIDNamespace, name: text)
    }

    static func uuidV5(namespace: UUID, name: String) -> UUID {
        var hasher = Insecure.SHA1()
        withUnsafeBytes(of: namespace.uuid) { hasher.update(bufferPointer: $0) }
        hasher.update(data: Array(name.utf8))
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50 // version 5
        bytes[8] = (bytes[8] & 0x3F) | 0x80 // RFC 4122 variant
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        ))
    }
}
