import AMITestSupport
import CRMSink
import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Testing

/// The dispatcher against a real HTTP receiver on 127.0.0.1: real outbox file, real libcurl.
@Suite struct WebhookDispatcherTests {
    static let complete = WebhookEvent(
        name: .callComplete,
        occurredAt: Date(timeIntervalSince1970: 1_768_487_520),
        callKey: "1234567890.120",
        uniqueid: "1234567890.123",
        linkedid: "1234567890.120",
        calldate: "2026-01-15 14:32:00",
        phoneNumber: "18005551234",
        agentUser: "agent_001",
        campaignID: "1234567890",
        leadID: 42,
        callDuration: 245,
        notes: "Zoë said \"call me\"\nlater",
        server: "dialer1"
    )

    @Test func theReceiverGetsTheSignedBodyAndHeaders() async throws {
        let server = try await RecordingHTTPServer.start(.respond(status: .ok))
        let received = ReceivedRequests(server)
        let endpoint = try WebhookEndpoint.Configuration.testEndpoint(port: server.port)
        let harness = try DispatcherHarness(endpoints: [endpoint])
        let before = Int(Date().timeIntervalSince1970)

        try await harness.emitter.emit(Self.complete)
        let request = try #require(try await received.first(1).first)
        _ = try await harness.finish(server, received)

        #expect(request.method == .POST)
        #expect(request.uri == "/hook")
        #expect(request.headers["Content-Type"] == ["application/json"])
        #expect(request.headers["X-AMIBridge-Event"] == ["call_complete"])
        #expect(request.headers["X-AMIBridge-Delivery"] == [Self.complete.eventID.uuidString.lowercased()])
        let timestamp = try #require(request.headers["X-AMIBridge-Timestamp"].first.flatMap(Int.init))
        #expect(timestamp >= before && timestamp <= Int(Date().timeIntervalSince1970))
        // Verified the way a CRM would: HMAC-SHA256 of "timestamp.body" with the shared secret.
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(timestamp).".utf8) + request.body,
            using: SymmetricKey(data: Array("s3cret-hook".utf8))
        )
        #expect(request.headers["X-AMIBridge-Signature"] == ["sha256=" + mac.map { String(format: "%02x", $0) }.joined()])

        let json = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(Set(json.keys) == Set(WebhookEvent.standardKeys))
        #expect(json["event"] as? String == "call_complete")
        #expect(json["event_id"] as? String == Self.complete.eventID.uuidString.lowercased())
        #expect(json["occurred_at"] as? String == "2026-01-15T14:32:00Z")
        #expect(json["lead_id"] as? Int == 42)
        #expect(json["notes"] as? String == "Zoë said \"call me\"\nlater")
        #expect(json["disposition"] is NSNull)
        #expect(json["reconstructed"] as? Bool == false)
        #expect(harness.dispatcher.metrics.delivered == 1)
    }

    @Test func fiveHundredThreeTimesThenOKIsDeliveredOnceMoreEachTimeThenNeverAgain() async throws {
        let answered = NIOLockedValueBox(0)
        let server = try await RecordingHTTPServer.start(.script { _ in
            let count = answered.withLockedValue { $0 += 1; return $0 }
            return (.respond(status: count <= 3 ? .internalServerError : .ok), .zero)
        })
        let received = ReceivedRequests(server)
        let harness = try DispatcherHarness(endpoints: [try .testEndpoint(port: server.port)])

        try await harness.emitter.emit(Self.complete)
        _ = try await received.first(4)
        let requests = try await harness.finish(server, received)

        #expect(requests.count == 4)
        #expect(Set(requests.map { $0.headers["X-AMIBridge-Delivery"] }) == [[Self.complete.eventID.uuidString.lowercased()]])
        #expect(Set(requests.map(\.body)).count == 1)
        #expect(harness.dispatcher.metrics == .init(attempts: 4, delivered: 1, retried: 3, deadLettered: 0))
    }

    @Test func aClientErrorIsDeadLetteredWithoutRetry() async throws {
        let server = try await RecordingHTTPServer.start(.respond(status: .badRequest))
        let received = ReceivedRequests(server)
        let harness = try DispatcherHarness(endpoints: [try .testEndpoint(port: server.port)])

        try await harness.emitter.emit(Self.complete)
        try await harness.drained()
        let dead = try harness.outbox.list(OutboxSelection(states: [.dead]), limit: 10)
        try await harness.stop()
        try await server.shutdown()

        #expect(await received.final().count == 1)
        #expect(dead.count == 1)
        #expect(dead.first?.eventID == Self.complete.eventID)
        #expect(dead.first?.lastStatus == 400)
        #expect(dead.first?.attempts == 1)
        #expect(harness.dispatcher.metrics.deadLettered == 1)
    }

    @Test func tooManyRequestsWaitsOutRetryAfter() async throws {
        let answered = NIOLockedValueBox(0)
        let server = try await RecordingHTTPServer.start(.script { _ in
            let count = answered.withLockedValue { $0 += 1; return $0 }
            return (count == 1 ? .respond(status: .tooManyRequests, headers: [("Retry-After", "1")]) : .respond(status: .ok), .zero)
        })
        let received = ReceivedRequests(server)
        let harness = try DispatcherHarness(endpoints: [try .testEndpoint(port: server.port)])

        try await harness.emitter.emit(Self.complete)
        let requests = try await received.first(2)
        // Arrival times at the receiver: the 429 went out after the first arrived, and Retry-After
        // counts from the response, so however slow the machine the gap cannot be under a second.
        let gap = requests[1].receivedAt - requests[0].receivedAt
        _ = try await harness.finish(server, received)

        // The endpoint's own backoff is 10-40 ms: only Retry-After explains a second's wait. The
        // upper bound only rules out reading Retry-After as minutes; a loaded CI machine adds seconds.
        #expect(gap >= .milliseconds(990))  // the outbox keeps times in whole milliseconds
        #expect(gap < .seconds(30))
        #expect(await received.final().count == 2)
    }

    @Test func aReceiverThatHangsTimesOutAndTheEventIsRetried() async throws {
        let answered = NIOLockedValueBox(0)
        let server = try await RecordingHTTPServer.start(.script { _ in
            let count = answered.withLockedValue { $0 += 1; return $0 }
            return (count == 1 ? .neverRespond : .respond(status: .noContent), .zero)
        })
        let received = ReceivedRequests(server)
        let endpoint = try WebhookEndpoint.Configuration.testEndpoint(port: server.port, timeout: .milliseconds(300))
        let harness = try DispatcherHarness(endpoints: [endpoint])

        try await harness.emitter.emit(Self.complete)
        let requests = try await received.first(2)
        _ = try await harness.finish(server, received)

        #expect(requests[0].headers["X-AMIBridge-Delivery"] == requests[1].headers["X-AMIBridge-Delivery"])
        #expect(harness.dispatcher.metrics.retried == 1)
        #expect(harness.dispatcher.metrics.delivered == 1)
    }

    @Test func aReceiverDownForAWhileGetsEverythingAfterwardsInPerCallOrder() async throws {
        // A port that was listening a moment ago: connections to it are refused until it is back.
        let gone = try await RecordingHTTPServer.start(.neverRespond)
        let port = gone.port
        try await gone.shutdown()
        let harness = try DispatcherHarness(endpoints: [try .testEndpoint(port: port, maxAttempts: 1000)])

        var events: [WebhookEvent] = []
        for call in 0..<5 {
            events.append(WebhookEvent(name: .callComplete, callKey: "call-\(call)", leadID: call))
            events.append(WebhookEvent(name: .dispositionSet, callKey: "call-\(call)", leadID: call, disposition: "SALE"))
        }
        try harness.emitter.emitBlocking(events)
        // Each call's first event has failed at least once; the second ones wait behind them.
        try await eventually { harness.dispatcher.metrics.retried >= 10 }

        let server = try await RecordingHTTPServer.start(.respond(status: .ok), port: port)
        let received = ReceivedRequests(server)
        _ = try await received.first(events.count)
        let requests = try await harness.finish(server, received)

        let deliveries = requests.compactMap { $0.headers["X-AMIBridge-Delivery"].first }
        #expect(Set(deliveries) == Set(events.map { $0.eventID.uuidString.lowercased() }))
        #expect(deliveries.count == events.count)
        for call in 0..<5 {
            let complete = try #require(deliveries.firstIndex(of: events[2 * call].eventID.uuidString.lowercased()))
            let disposition = try #require(deliveries.firstIndex(of: events[2 * call + 1].eventID.uuidString.lowercased()))
            #expect(complete < disposition, "call \(call): disposition_set before call_complete")
        }
        #expect(harness.dispatcher.metrics.delivered == events.count)
    }

    @Test func aTemplateEndpointGetsAGetWithEncodedValues() async throws {
        let server = try await RecordingHTTPServer.start(.respond(status: .ok))
        let received = ReceivedRequests(server)
        let template = "VARhttp://127.0.0.1:\(server.port)/dispo.php?lead=--A--LEAD_ID--B--&status=--A--dispo--B--"
            + "&name=--A--first_name--B--&notes=--A--notes--B--&missing=--A--nope--B--"
        let endpoint = try WebhookEndpoint.Configuration.testEndpoint(port: server.port, path: template, format: .vicidialTemplate)
        let harness = try DispatcherHarness(endpoints: [endpoint])
        let event = WebhookEvent(
            name: .dispositionSet, callKey: "c1", leadID: 42, disposition: "SALE", notes: "Tom & Jerry = 100%",
            extra: ["first_name": "Zoë Ann"]
        )

        try await harness.emitter.emit(event)
        let request = try #require(try await received.first(1).first)
        _ = try await harness.finish(server, received)

        #expect(request.method == .GET)
        #expect(request.uri == "/dispo.php?lead=42&status=SALE&name=Zo%C3%AB%20Ann&notes=Tom%20%26%20Jerry%20%3D%20100%25&missing=")
        #expect(request.body.isEmpty)
        #expect(request.headers["X-AMIBridge-Delivery"] == [event.eventID.uuidString.lowercased()])
    }

    @Test func gracefulShutdownFinishesTheRequestInFlightAndRecordsIt() async throws {
        let server = try await RecordingHTTPServer.start(.script { _ in (.respond(status: .ok), .milliseconds(300)) })
        let received = ReceivedRequests(server)
        let harness = try DispatcherHarness(endpoints: [try .testEndpoint(port: server.port)])

        try await harness.emitter.emit(Self.complete)
        _ = try await received.first(1)
        // The receiver holds its answer for 300 ms; stopping now must wait for it.
        try await harness.stop()
        let states = try harness.states()
        try await server.shutdown()

        #expect(harness.dispatcher.metrics == .init(attempts: 1, delivered: 1))
        #expect(states.isEmpty)
        #expect(await received.final().count == 1)
    }

    @Test(arguments: [false, true])
    func redirectsAreFollowedOnlyWhenConfigured(follow: Bool) async throws {
        let server = try await RecordingHTTPServer.start(.script { request in
            (request.uri == "/hook" ? .respond(status: .temporaryRedirect, headers: [("Location", "/moved")]) : .respond(status: .ok), .zero)
        })
        let received = ReceivedRequests(server)
        var endpoint = try WebhookEndpoint.Configuration.testEndpoint(port: server.port)
        endpoint.followsRedirects = follow
        let harness = try DispatcherHarness(endpoints: [endpoint])

        try await harness.emitter.emit(Self.complete)
        try await harness.drained()
        let dead = try harness.outbox.list(OutboxSelection(states: [.dead]), limit: 10)
        let requests = try await harness.finish(server, received)

        if follow {
            #expect(requests.map(\.uri) == ["/hook", "/moved"])
            #expect(requests.last?.method == .POST)
            #expect(requests.last?.body == requests.first?.body)
            #expect(dead.isEmpty)
        } else {
            #expect(requests.map(\.uri) == ["/hook"])
            #expect(dead.first?.lastStatus == 307)
        }
    }

    @Test func eventsGoOnlyToEndpointsThatTakeThem() async throws {
        let server = try await RecordingHTTPServer.start(.respond(status: .ok))
        let received = ReceivedRequests(server)
        var sales = try WebhookEndpoint.Configuration.testEndpoint(port: server.port, name: "sales", path: "/sales")
        sales.campaigns = ["SALES"]
        var dispositions = try WebhookEndpoint.Configuration.testEndpoint(port: server.port, name: "dispo", path: "/dispo")
        dispositions.events = [.dispositionSet]
        let harness = try DispatcherHarness(endpoints: [sales, dispositions])

        try harness.emitter.emitBlocking([
            WebhookEvent(name: .callComplete, callKey: "a", campaignID: "SALES"),
            WebhookEvent(name: .callComplete, callKey: "b", campaignID: "SUPPORT"),
            WebhookEvent(name: .dispositionSet, callKey: "b", campaignID: "SUPPORT"),
        ])
        let requests = try await harness.finish(server, received)

        #expect(requests.map(\.uri).sorted() == ["/dispo", "/sales"])
        #expect(requests.first { $0.uri == "/sales" }?.headers["X-AMIBridge-Event"] == ["call_complete"])
    }
}
