import CRMSink
import Foundation
import NIOConcurrencyHelpers
import Testing

/// The event log's publications: stored with the webhooks in one transaction, read back in order,
/// gone only once acknowledged, and invisible to the webhook dispatcher's claims and counts.
@Suite struct OutboxPublicationTests {
    static let route = EventLogRoute()

    static func event(_ name: WebhookEvent.Name, server: String? = "dialer1", call: String = "dialer1/1.1") -> WebhookEvent {
        WebhookEvent(name: name, callKey: call, server: server)
    }

    @Test func publicationsAreStoredWithTheirWebhooksAndLeaveOnlyWhenAcknowledged() throws {
        try OutboxTests.withOutbox { outbox in
            let events = [Self.event(.callAnswered), Self.event(.callComplete), Self.event(.callComplete, call: "dialer1/2.2")]
            try outbox.commitBlocking(OutboxBatch(
                deliveries: OutboxTests.deliveries(events), publications: events.compactMap(Self.route.publication(of:))
            ))
            let pending = try outbox.pendingPublications(limit: 10)
            #expect(pending.map(\.eventID) == events.map(\.eventID))
            #expect(pending.map(\.subject) == ["amibridge.dialer1.call_answered", "amibridge.dialer1.call_complete", "amibridge.dialer1.call_complete"])
            #expect(pending.first?.body == events.first?.jsonBody())
            #expect(try outbox.publicationBacklog().count == 3)

            // The dispatcher sees only the webhooks: three deliveries, no publication.
            #expect(try outbox.counts()["crm"]?[.pending] == 3)
            #expect(try outbox.counts().keys.sorted() == ["crm"])

            // The first acknowledged, the second failed: it stays, first in line, with its attempt counted.
            try outbox.recordPublished([pending[0].id], failed: (pending[1].id, "timeout"))
            let left = try outbox.pendingPublications(limit: 10)
            #expect(left.map(\.id) == [pending[1].id, pending[2].id])
            #expect(left.first?.attempts == 1)
            try outbox.recordPublished(left.map(\.id))
            #expect(try outbox.publicationBacklog().count == 0)
            #expect(try outbox.counts()["crm"]?[.pending] == 3)
        }
    }

    @Test func aBatchOfPublicationsAloneIsWrittenAndWakesTheObservers() throws {
        try OutboxTests.withOutbox { outbox in
            let woken = NIOLockedValueBox(0)
            outbox.addEnqueueObserver { woken.withLockedValue { $0 += 1 } }
            try outbox.commitBlocking(OutboxBatch(deliveries: [], publications: [Self.route.publication(of: Self.event(.userEvent))!]))
            #expect(try outbox.publicationBacklog().count == 1)
            #expect(woken.withLockedValue { $0 } == 1)
        }
    }

    @Test func subjectsAreServerAndEventTokens() {
        #expect(EventLogRoute(subjectPrefix: "acme.amibridge").subject(server: "dialer.2 east", event: .dispositionSet)
            == "acme.amibridge.dialer_2_east.disposition_set")
        #expect(Self.route.subject(server: nil, event: .callComplete) == "amibridge.unknown.call_complete")
    }

    @Test func theCallCompleteForEndpointsThatWaitForTheDispositionIsNotPublishedAgain() {
        var later = Self.event(.callComplete)
        later.recipients = .waitingForDisposition
        #expect(Self.route.publication(of: later) == nil)
        later.recipients = .notWaitingForDisposition
        #expect(Self.route.publication(of: later)?.eventID == later.eventID)
    }
}
