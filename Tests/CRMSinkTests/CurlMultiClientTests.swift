import AMITestSupport
import CRMSink
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import Testing

@Suite struct CurlMultiClientTests {
    /// Three requests the receiver never answers hold three of four slots; a fourth still goes
    /// out and comes back with its own tag and body while they wait. Run one at a time, the
    /// fourth would sit behind the first's 60-second timeout.
    @Test func requestsRunAtOnceAndEachComesBackWithItsTag() async throws {
        // Counted as the receiver sees them: the client keeps running until all four are there,
        // so none is cut off by the client closing its connections.
        let received = NIOLockedValueBox(0)
        let server = try await RecordingHTTPServer.start(.script { request in
            received.withLockedValue { $0 += 1 }
            return request.uri.hasPrefix("/hold") ? (.neverRespond, .zero) : (.respond(status: .created, body: request.body), .zero)
        })
        let base = "http://127.0.0.1:\(server.port)"
        let outcome = try await NIOThreadPool.singleton.runIfActive {
            let client = try CurlMultiClient(concurrency: 4)
            for index in 0..<3 {
                try client.start(CurlHTTPRequest(method: "POST", url: "\(base)/hold/\(index)", body: [1], timeout: .seconds(60)), tag: index)
            }
            do {
                // The body's array is gone before the request is sent: libcurl must have copied it.
                let body = Array("{\"call\":\"fast\"}".utf8)
                try client.start(CurlHTTPRequest(method: "POST", url: "\(base)/fast", body: body), tag: 42)
            }
            let noRoom = Result { () throws(CurlError) in
                try client.start(CurlHTTPRequest(method: "GET", url: "\(base)/fifth"), tag: 5)
            }
            var finished: [CurlMultiClient.Finished] = []
            let deadline = ContinuousClock.now + .seconds(30)
            while (finished.isEmpty || received.withLockedValue({ $0 }) < 4) && ContinuousClock.now < deadline {
                finished += client.wait(upTo: .milliseconds(200))
            }
            return (finished, client.runningCount, noRoom)
        }
        let requests = try await server.shutdownAndCollectRequests()

        let (finished, stillRunning, noRoom) = outcome
        #expect(finished.count == 1)
        let fast = try #require(finished.first)
        #expect(fast.tag == 42)
        let response = try fast.result.get()
        #expect(response.status == 201)
        #expect(response.body == Array("{\"call\":\"fast\"}".utf8))
        #expect(stillRunning == 3)
        #expect(throws: CurlError.self) { try noRoom.get() }
        #expect(Set(requests.map(\.uri)) == ["/hold/0", "/hold/1", "/hold/2", "/fast"])
    }

    @Test func aRefusedConnectionAndAnInjectedHeaderAreErrorsAndFreeTheirSlot() async throws {
        let closed = try ClosedPort()
        let (started, refused, injected, running) = try await NIOThreadPool.singleton.runIfActive {
            let client = try CurlMultiClient(concurrency: 1)
            let injected = Result { () throws(CurlError) in
                try client.start(
                    CurlHTTPRequest(method: "POST", url: "http://127.0.0.1:\(closed.port)/hook", headers: [("X-Event", "a\r\nX-Injected: yes")]),
                    tag: 1
                )
            }
            // The refused request fits in the one slot: the injected one never took it.
            let started = Result { () throws(CurlError) in
                try client.start(CurlHTTPRequest(method: "POST", url: "http://127.0.0.1:\(closed.port)/hook", body: [1]), tag: 2)
            }
            var finished: [CurlMultiClient.Finished] = []
            let deadline = ContinuousClock.now + .seconds(30)
            while finished.isEmpty && ContinuousClock.now < deadline {
                finished += client.wait(upTo: .milliseconds(200))
            }
            return (started, finished, injected, client.runningCount)
        }
        #expect(throws: Never.self) { try started.get() }
        #expect(refused.map(\.tag) == [2])
        let error = try #require(throws: CurlError.self) { try refused.first?.result.get() }
        #expect(error.code == .couldNotConnect)
        let injection = try #require(throws: CurlError.self) { try injected.get() }
        #expect(injection.code == .badFunctionArgument)
        #expect(running == 0)
    }

    /// A wake from another thread ends a wait that has nothing to wait for (the dispatcher's
    /// transfer thread, idle, waits like this for new deliveries).
    @Test func wakeEndsAnIdleWait() async throws {
        let client = try CurlMultiClient(concurrency: 2)
        let elapsed = try await NIOThreadPool.singleton.runIfActive {
            let started = ContinuousClock.now
            Thread.detachNewThread { client.wake() }
            let finished = client.wait(upTo: .seconds(60))
            return (ContinuousClock.now - started, finished.count)
        }
        #expect(elapsed.1 == 0)
        // Woken, not timed out: far below the minute it would otherwise wait.
        #expect(elapsed.0 < .seconds(30))
    }
}
