@testable import CRMSink
import Foundation
import Testing

/// Event ids are UUIDv5s of what the event is about: the same event produced twice (after a
/// crash, by a second bridge) has the same id, and different events never share one.
@Suite struct WebhookEventIDTests {
    @Test func uuidV5MatchesTheRFCExample() {
        // RFC 9562 appendix A.4: the DNS namespace and "www.example.com".
        let dns = UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8")!
        #expect(WebhookEvent.uuidV5(namespace: dns, name: "www.example.com") == UUID(uuidString: "2ed6657d-e927-568b-95e1-2665a8aea6a2"))
    }

    @Test func theSameEventAlwaysHasTheSameID() {
        let first = WebhookEvent.eventID(server: "dialer1", subject: "1700000000.12", name: .callComplete)
        let again = WebhookEvent.eventID(server: "dialer1", subject: "1700000000.12", name: .callComplete)
        #expect(first == again)
        #expect(first.uuidString.lowercased().dropFirst(14).first == "5", "version 5")
    }

    @Test func everyPartOfTheIdentityChangesTheID() {
        let base = WebhookEvent.eventID(server: "dialer1", subject: "1700000000.12", name: .callComplete)
        let others = [
            WebhookEvent.eventID(server: "dialer2", subject: "1700000000.12", name: .callComplete),
            WebhookEvent.eventID(server: "dialer1", subject: "1700000000.13", name: .callComplete),
            WebhookEvent.eventID(server: "dialer1", subject: "1700000000.12", name: .dispositionSet),
            WebhookEvent.eventID(server: "dialer1", subject: "1700000000.12", name: .callComplete, discriminator: "2"),
            // Parts are separated, not concatenated: "dialer1" + "1.12" is not "dialer11" + ".12".
            WebhookEvent.eventID(server: "dialer11", subject: "700000000.12", name: .callComplete),
        ]
        #expect(Set(others + [base]).count == others.count + 1)
    }
}
