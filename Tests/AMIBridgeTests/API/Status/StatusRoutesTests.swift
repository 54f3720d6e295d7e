@testable import AMIBridge
import AMIProtocol
import CRMSink
import Crypto
import EventMapper
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The status page's routes in the router: the snapshot reflects the calls the stages report
/// (masked when `log.mask_phone_numbers` is on), the retry needs a key and re-queues a dead
/// letter, the IP allowlist covers the page and its JSON, and the page carries its CSP.
@Suite("API status page")
struct StatusRoutesTests {
    /// A key store, an outbox and a status service over them, with a clock the test moves.
    struct Fixture {
        let environment: APITestEnvironment
        let outbox: Outbox
        let board = StatusBoard(completedCallsAreHeld: true)
        let history = DeliveryHistory()
        let clock = ManualEpochClock(secondsSince1970: 1_700_000_100)

        init() throws {
            environment = try APITestEnvironment()
            outbox = try Outbox(stateDirectory: environment.directory)
        }

        func service(mask: Bool = false, servers: [StatusService.AMIServerReading] = []) -> StatusService {
            StatusService(
                configuration: .init(maskPhoneNumbers: mask), board: board, history: history, servers: { servers },
                outbox: outbox, retryOutbox: outbox, endpoints: { ["crm"] }, clock: clock
            )
        }

        func application(_ service: StatusService?, allowlist: [IPAddressRange] = []) -> some ApplicationProtocol {
            var configuration = APIConfiguration()
            configuration.stateDirectory = environment.directory
            configuration.ipAllowlist = allowlist
            return APIServer(configuration: configuration, keyStore: environment.store, status: service).makeApplication()
        }

        /// One delivery of `call_complete` to `crm`, given up with a 400: a dead letter.
        func deadLetter() throws -> Int64 {
            try outbox.enqueueBlocking([OutboxNewDelivery(
                eventID: UUID(), event: .callComplete, endpoint: "crm", callKey: "pbx/1700000000.1", requestURL: nil, body: Array("{}".utf8)
            )])
            let claimed = try outbox.claim(limit: 10)
            try #require(claimed.count == 1)
            try outbox.record([.dead(id: claimed[0].id, status: 400, error: "HTTP 400 from 18005551234")])
            return claimed[0].id
        }

        func remove() { environment.remove() }
    }

    static func call(linkedid: String = "1700000000.1", startedAt: Double = 1_700_000_040) -> CallRecord {
        let agent = CallLeg(uniqueid: linkedid, channel: "SIP/1001-0000000a", createdAt: startedAt)
        let customer = CallLeg(uniqueid: linkedid + "1", channel: "SIP/carrier/18005551234-0000000b", createdAt: startedAt + 1)
        return CallRecord(
            server: "pbx", linkedid: linkedid, legs: [agent, customer], agentLeg: customer, customerLeg: customer,
            startedAt: startedAt, phoneNumber: "18005551234"
        )
    }

    static func status(_ client: some TestClientProtocol) async throws -> [String: Any] {
        try await client.execute(uri: "/status.json", method: .get) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            return try #require(JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
        }
    }

    @Test("a call the tracker reports shows in progress with its age, then waiting for its row once held")
    func trackedCall() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let service = fixture.service(servers: [.init(name: "pbx", status: .loggedIn(banner: "Asterisk"), since: 1_700_000_000, eventsRead: 10)])
        fixture.board.apply([.started(Self.call())])
        try await fixture.application(service).test(.router) { client in
            let status = try await Self.status(client)
            let inProgress = try #require(status["calls_in_progress"] as? [String: Any])
            #expect(inProgress["count"] as? Int == 1)
            let call = try #require((inProgress["calls"] as? [[String: Any]])?.first)
            #expect(call["linkedid"] as? String == "1700000000.1")
            #expect(call["age_seconds"] as? Int == 60)
            #expect(call["phone_number"] as? String == "18005551234")
            #expect(call["agent"] as? String == "SIP/carrier/18005551234-0000000b")
            #expect(call["call_id"] is NSNull)
            let server = try #require((status["ami_servers"] as? [[String: Any]])?.first)
            #expect(server["state"] as? String == "logged_in")
            #expect(server["connected"] as? Bool == true)
            #expect(server["events_per_second"] is NSNull)
            #expect(status["endpoints"] as? [[String: Any]] != nil)

            // Completed, then held for its row: it moves from one list to the other.
            fixture.board.apply([.completed(Self.call())])
            fixture.board.stored(holding: [.waitingForRow(Self.call(), deadline: 1_700_000_400)], releasing: [], at: 1_700_000_100)
            fixture.clock.advance(by: .seconds(1))
            let later = try await Self.status(client)
            #expect((later["calls_in_progress"] as? [String: Any])?["count"] as? Int == 0)
            let waiting = try #require(later["calls_waiting"] as? [String: Any])
            #expect(waiting["vicidial_row"] as? Int == 1)
            let held = try #require((waiting["calls"] as? [[String: Any]])?.first)
            #expect(held["waiting_for"] as? String == "vicidial_row")
            #expect(held["phone_number"] as? String == "18005551234")
            #expect(held["deadline"] as? Double == 1_700_000_400)

            // Released from the row wait into the disposition wait, then from that.
            fixture.board.stored(
                holding: [HeldCall(kind: .disposition, callKey: Self.call().key, payload: [], deadline: 1_700_002_000)],
                releasing: [.rowWaitEnded(Self.call())], at: 1_700_000_101
            )
            fixture.board.stored(holding: [], releasing: [.rowWaitEnded(Self.call())], at: 1_700_000_102)
            #expect(fixture.board.snapshot.held[Self.call().key]?.waitingFor == .disposition)
            fixture.board.stored(holding: [], releasing: [.dispositionWaitEnded(Self.call())], at: 1_700_000_103)
            #expect(fixture.board.snapshot.held.isEmpty)
        }
    }

    @Test("with log.mask_phone_numbers the JSON carries masked numbers, channels and errors only")
    func masking() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        fixture.board.apply([.started(Self.call())])
        _ = try fixture.deadLetter()
        try await fixture.application(fixture.service(mask: true)).test(.router) { client in
            let text = try await client.execute(uri: "/status.json", method: .get) { String(buffer: $0.body) }
            #expect(!text.contains("18005551234"), "\(text)")
            let status = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(status["phone_numbers_masked"] as? Bool == true)
            let call = try #require(((status["calls_in_progress"] as? [String: Any])?["calls"] as? [[String: Any]])?.first)
            #expect(call["phone_number"] as? String == "*******1234")
            #expect(call["agent"] as? String == "SIP/carrier/*******1234-0000000b")
            let letter = try #require(((status["dead_letters"] as? [String: Any])?["letters"] as? [[String: Any]])?.first)
            #expect(letter["last_error"] as? String == "HTTP 400 from *******1234")
        }
    }

    @Test("retrying a dead letter needs a key, queues it again, and is a 404 the second time")
    func retry() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let id = try fixture.deadLetter()
        let key = try fixture.environment.store.create(name: "status").text
        try await fixture.application(fixture.service()).test(.router) { client in
            let before = try await Self.status(client)
            let dead = try #require(before["dead_letters"] as? [String: Any])
            #expect(dead["count"] as? Int == 1)
            #expect(((dead["letters"] as? [[String: Any]])?.first?["delivery_id"] as? Int).map(Int64.init) == id)

            try await client.execute(uri: "/v1/dead-letters/\(id)/retry", method: .post) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(try fixture.outbox.list(OutboxSelection(states: [.dead]), limit: 10).count == 1)
            try await client.execute(uri: "/v1/dead-letters/\(id)/retry", method: .post, headers: APITestEnvironment.bearer(key)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"delivery_id":\#(id),"retried":true}"#)
            }
            #expect(try fixture.outbox.list(OutboxSelection(states: [.pending]), limit: 10).map(\.id) == [id])
            try await client.execute(uri: "/v1/dead-letters/\(id)/retry", method: .post, headers: APITestEnvironment.bearer(key)) { response in
                #expect(response.status == .notFound)
                #expect(APIErrorBody.decode(response.body)?.error.code == "not_found")
            }
            for bad in ["0", "-1", "abc", "99999999999999999999", "1.5"] {
                try await client.execute(uri: "/v1/dead-letters/\(bad)/retry", method: .post, headers: APITestEnvironment.bearer(key)) { response in
                    #expect(response.status == .badRequest, "\(bad)")
                }
            }
            // The snapshot reads the outbox again after a retry.
            let after = try await Self.status(client)
            #expect((after["dead_letters"] as? [String: Any])?["count"] as? Int == 0)
            let endpoint = try #require((after["endpoints"] as? [[String: Any]])?.first)
            #expect(endpoint["name"] as? String == "crm")
            #expect(endpoint["pending"] as? Int == 1)
            #expect(endpoint["owed"] as? Int == 1)
        }
    }

    @Test("outside the IP allowlist the page and its JSON are 403, and nothing of them shows")
    func allowlist() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        fixture.board.apply([.started(Self.call())])
        try await fixture.application(fixture.service(), allowlist: [IPAddressRange("10.0.0.0/8")!]).test(.router) { client in
            for uri in ["/", "/status.json"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .forbidden, "\(uri)")
                    #expect(APIErrorBody.decode(response.body)?.error.code == "forbidden")
                    #expect(!String(buffer: response.body).contains("1700000000.1"))
                }
            }
        }
    }

    @Test("the page is HTML with a CSP that allows exactly its own style and script, and nothing external")
    func pageAndPolicy() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.application(nil).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                let policy = try #require(response.headers[.contentSecurityPolicy])
                #expect(policy.hasPrefix("default-src 'none'"))
                #expect(policy.contains("connect-src 'self'"))
                let html = String(buffer: response.body)
                for (open, close, directive) in [("<script>", "</script>", "script-src"), ("<style>", "</style>", "style-src")] {
                    let inline = try #require(html.range(of: open).flatMap { start in
                        html.range(of: close, range: start.upperBound..<html.endIndex).map { String(html[start.upperBound..<$0.lowerBound]) }
                    })
                    let hash = Data(SHA256.hash(data: Data(inline.utf8))).base64EncodedString()
                    #expect(policy.contains("\(directive) 'sha256-\(hash)'"), "\(directive)")
                }
                // No external asset, and data reaches the page through textContent only.
                #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("src="))
                #expect(!html.contains("innerHTML") && !html.contains("insertAdjacentHTML") && !html.contains("document.write"))
            }
            // Without a status service (not the daemon) the JSON is 503.
            try await client.execute(uri: "/status.json", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(APIErrorBody.decode(response.body)?.error.code == "status_unavailable")
            }
        }
    }

    @Test("a request whose Origin is the daemon's own address is same-origin, not cross-origin")
    func sameOrigin() {
        #expect(CORSAllowlistMiddleware.isSameOrigin("http://127.0.0.1:8088", authority: "127.0.0.1:8088"))
        #expect(CORSAllowlistMiddleware.isSameOrigin("https://bridge.example:8443", authority: "bridge.example:8443"))
        #expect(!CORSAllowlistMiddleware.isSameOrigin("http://evil.example", authority: "127.0.0.1:8088"))
        #expect(!CORSAllowlistMiddleware.isSameOrigin("http://127.0.0.1:8088", authority: nil))
        #expect(!CORSAllowlistMiddleware.isSameOrigin("http://", authority: ""))
    }
}
