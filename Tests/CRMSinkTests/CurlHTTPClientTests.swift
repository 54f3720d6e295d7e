import AMITestSupport
import CRMSink
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@Suite struct CurlHTTPClientTests {
    @Test func sendsMethodPathHeadersAndBodyAndReturnsTheResponse() async throws {
        let server = try await RecordingHTTPServer.start(
            .respond(status: .created, headers: [("X-Receiver", "recorded")], body: Array("accepted".utf8))
        )
        let body = Array(#"{"event":"call_complete","notes":"Zoë 🙂"}"#.utf8)
        let request = CurlHTTPRequest(
            method: "POST",
            url: "http://127.0.0.1:\(server.port)/hooks/calls?source=amibridge",
            headers: [("Content-Type", "application/json"), ("X-AMIBridge-Event", "call_complete")],
            body: body
        )

        let response = try await perform(request).get()
        let requests = try await server.shutdownAndCollectRequests()

        #expect(requests.count == 1)
        let received = try #require(requests.first)
        #expect(received.method == .POST)
        #expect(received.uri == "/hooks/calls?source=amibridge")
        #expect(received.headers["Content-Type"] == ["application/json"])
        #expect(received.headers["X-AMIBridge-Event"] == ["call_complete"])
        #expect(received.headers["Content-Length"] == [String(body.count)])
        #expect(received.headers["Expect"].isEmpty)
        #expect(received.body == body)

        #expect(response.status == 201)
        #expect(response.header("x-receiver") == "recorded")
        #expect(response.body == Array("accepted".utf8))
        #expect(response.totalTime > .zero)
        #expect(response.totalTime < request.timeout)
    }

    @Test func getSendsNoBodyAndNoContentType() async throws {
        let server = try await RecordingHTTPServer.start(.respond(status: .ok))
        let response = try await perform(CurlHTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/dispo?lead_id=42&dispo=SALE")).get()
        let received = try #require(try await server.shutdownAndCollectRequests().first)
        #expect(response.status == 200)
        #expect(received.method == .GET)
        #expect(received.uri == "/dispo?lead_id=42&dispo=SALE")
        #expect(received.body.isEmpty)
        #expect(received.headers["Content-Type"].isEmpty)
        #expect(received.headers["Content-Length"].isEmpty)
    }

    @Test func redirectsAreReturnedNotFollowed() async throws {
        let server = try await RecordingHTTPServer.start(.respond(status: .found, headers: [("Location", "/elsewhere")]))
        let response = try await perform(
            CurlHTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/hook", body: Array("{}".utf8))
        ).get()
        let requests = try await server.shutdownAndCollectRequests()
        #expect(response.status == 302)
        #expect(response.header("Location") == "/elsewhere")
        #expect(requests.map(\.uri) == ["/hook"])
    }

    @Test func consecutiveRequestsReuseTheConnection() async throws {
        let server = try await RecordingHTTPServer.start(.respond(status: .noContent))
        let url = "http://127.0.0.1:\(server.port)/hook"
        let statuses = try await NIOThreadPool.singleton.runIfActive {
            let client = try CurlHTTPClient()
            return try [1, 2].map { _ in try client.perform(CurlHTTPRequest(method: "POST", url: url, body: [1])).status }
        }
        let requests = try await server.shutdownAndCollectRequests()
        #expect(statuses == [204, 204])
        #expect(requests.count == 2)
        #expect(requests[0].clientPort != nil)
        #expect(requests[0].clientPort == requests.last?.clientPort)
    }

    @Test func aReceiverThatNeverAnswersTimesOutWithinTheTimeout() async throws {
        let server = try await RecordingHTTPServer.start(.neverRespond)
        let timeout = Duration.milliseconds(500)
        let request = CurlHTTPRequest(
            method: "POST",
            url: "http://127.0.0.1:\(server.port)/slow",
            body: Array("{}".utf8),
            connectTimeout: .seconds(5),
            timeout: timeout
        )

        let (result, elapsed) = try await performTimed(request)
        // The request did arrive (data sent before curl gave up is still read by the server), so
        // the time went into waiting for an answer, not into connecting.
        var requests = server.requests.makeAsyncIterator()
        let received = await requests.next()
        try await server.shutdown()

        let error = try #require(throws: CurlError.self) { try result.get() }
        #expect(error.code == .operationTimedOut)
        #expect(!error.message.isEmpty)
        #expect(received?.uri == "/slow")
        // No longer than the timeout allows; the margin is for a loaded CI machine, not for libcurl.
        #expect(elapsed >= timeout * 0.9)
        #expect(elapsed < timeout + .seconds(2))
    }

    @Test func aClosedPortIsCouldNotConnect() async throws {
        // Port 1 (tcpmux) on loopback: nothing listens there, and unlike a port freed a moment
        // ago, no test running in parallel can take it over, so the connection is refused.
        let port = 1

        let result = try await perform(CurlHTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/hook", body: [1]))
        let error = try #require(throws: CurlError.self) { try result.get() }
        #expect(error.code == .couldNotConnect)
        #expect(error.message.contains(String(port)))
    }

    @Test func aResponseBodyOverTheLimitIsAnError() async throws {
        let server = try await RecordingHTTPServer.start(.respond(status: .ok, body: Array(repeating: UInt8(ascii: "x"), count: 5000)))
        var request = CurlHTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/big")
        request.maximumResponseBodySize = 1000
        let result = try await perform(request)
        try await server.shutdown()
        let error = try #require(throws: CurlError.self) { try result.get() }
        #expect(error.code == .writeError)
        #expect(error.message.contains("1000"))
    }

    @Test(arguments: [
        ("X-Event", "call_complete\r\nX-Injected: yes"),
        ("X-Event", "call_complete\nX-Injected: yes"),
        ("X-Event: x\r\nX-Injected", "yes"),
    ])
    func headerInjectionIsRefusedBeforeAnythingIsSent(name: String, value: String) async throws {
        let server = try await RecordingHTTPServer.start(.respond(status: .ok))
        let result = try await perform(
            CurlHTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/hook", headers: [(name, value)], body: [1])
        )
        let requests = try await server.shutdownAndCollectRequests()
        let error = try #require(throws: CurlError.self) { try result.get() }
        #expect(error.code == .badFunctionArgument)
        #expect(requests.isEmpty)
    }

    @Test func schemesOtherThanHTTPAreRefused() async throws {
        let result = try await perform(CurlHTTPRequest(method: "GET", url: "file:///etc/passwd"))
        let error = try #require(throws: CurlError.self) { try result.get() }
        #expect(error.code == .unsupportedProtocol)
    }

    @Test func tlsIsVerifiedByDefault() {
        #expect(CurlHTTPRequest(method: "GET", url: "https://crm.example.com/hook").verifiesTLS)
    }

    private func perform(_ request: CurlHTTPRequest) async throws -> Result<CurlHTTPResponse, CurlError> {
        try await self.performTimed(request).result
    }

    /// Runs one request on the thread pool (libcurl blocks, and must not block the test's task),
    /// timed there so that a busy cooperative pool in a parallel test run cannot inflate the time.
    private func performTimed(
        _ request: CurlHTTPRequest
    ) async throws -> (result: Result<CurlHTTPResponse, CurlError>, elapsed: Duration) {
        try await NIOThreadPool.singleton.runIfActive {
            let clock = ContinuousClock()
            let start = clock.now
            let result = Result { () throws(CurlError) in try CurlHTTPClient().perform(request) }
            return (result, clock.now - start)
        }
    }
}
