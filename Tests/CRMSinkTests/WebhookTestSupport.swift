import AMITestSupport
import CRMSink
import Foundation
import Logging
import NIOConcurrencyHelpers

/// A fresh state directory under /tmp, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        self.path = NSTemporaryDirectory() + "amibridge-outbox-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: self.path) }
}

/// A real outbox in a temporary directory and a running dispatcher delivering from it.
final class DispatcherHarness: Sendable {
    let outbox: Outbox
    let dispatcher: WebhookDispatcher
    let emitter: WebhookEmitter
    private let directory: TemporaryDirectory
    private let running: Task<Void, any Error>

    init(endpoints: [WebhookEndpoint.Configuration], workers: Int = 4) throws {
        self.directory = try TemporaryDirectory()
        self.outbox = try Outbox(stateDirectory: self.directory.path)
        self.emitter = WebhookEmitter(outbox: self.outbox, endpoints: endpoints)
        self.dispatcher = WebhookDispatcher(
            outbox: self.outbox,
            endpoints: endpoints,
            configuration: .init(workers: workers, pollInterval: .milliseconds(200)),
            logger: { var logger = Logger(label: "test.webhooks"); logger.logLevel = .critical; return logger }()
        )
        let dispatcher = self.dispatcher
        self.running = Task { try await dispatcher.run() }
    }

    deinit {
        self.directory.remove()
    }

    /// Graceful stop: in-flight requests finish; after this nothing more is sent.
    func stop() async throws {
        self.running.cancel()
        try await self.running.value
    }

    /// Once nothing is owed any more: stops the dispatcher, then the receiver, and returns
    /// everything the receiver got (so a test can also check that nothing more came).
    func finish(_ server: RecordingHTTPServer, _ received: ReceivedRequests) async throws -> [RecordingHTTPServer.RecordedRequest] {
        try await self.drained()
        try await self.stop()
        try await server.shutdown()
        return await received.final()
    }

    /// Rows still owed (pending, in flight, waiting to retry) plus dead ones, per state.
    func states() throws -> [OutboxDeliveryState: Int] {
        try self.outbox.counts().values.reduce(into: [:]) { total, states in
            total.merge(states, uniquingKeysWith: +)
        }
    }

    /// Waits until nothing is owed any more (delivered or dead).
    func drained(within limit: Duration = .seconds(60)) async throws {
        try await eventually(within: limit) {
            try self.states().filter { $0.key != .dead }.values.allSatisfy { $0 == 0 }
        }
    }
}

/// Waits for `condition`, looked at every 10 ms, for state the tests cannot be told about
/// directly (rows in a database); fails after `limit`.
func eventually(within limit: Duration = .seconds(60), _ condition: @escaping @Sendable () throws -> Bool) async throws {
    try await withDeadline(limit) {
        while try !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }
}

/// Everything a receiver got, gathered as it comes (one reader of its stream for the whole test).
final class ReceivedRequests: Sendable {
    private final class Storage: Sendable {
        let requests = NIOLockedValueBox<[RecordingHTTPServer.RecordedRequest]>([])
    }

    private let storage = Storage()
    private let reader: Task<Void, Never>

    init(_ server: RecordingHTTPServer) {
        let storage = self.storage
        self.reader = Task {
            for await request in server.requests { storage.requests.withLockedValue { $0.append(request) } }
        }
    }

    var all: [RecordingHTTPServer.RecordedRequest] { self.storage.requests.withLockedValue { $0 } }

    /// The first `count` requests, once that many arrived; fails after `limit`.
    func first(_ count: Int, within limit: Duration = .seconds(60)) async throws -> [RecordingHTTPServer.RecordedRequest] {
        try await eventually(within: limit) { self.all.count >= count }
        return Array(self.all.prefix(count))
    }

    /// Everything, once the server has shut down (its stream finished).
    func final() async -> [RecordingHTTPServer.RecordedRequest] {
        await self.reader.value
        return self.all
    }
}

extension WebhookEndpoint.Configuration {
    /// An endpoint at `port` with retries quick enough for tests.
    static func testEndpoint(
        port: Int,
        name: String = "crm",
        path: String = "/hook",
        format: WebhookEndpoint.Format = .json,
        maxAttempts: Int = 10,
        timeout: Duration = .seconds(5)
    ) throws -> Self {
        try Self(
            name: name,
            url: format == .json ? "http://127.0.0.1:\(port)\(path)" : path,
            format: format,
            secret: format == .json ? "s3cret-hook" : nil,
            timeout: timeout,
            connectTimeout: .seconds(1),
            maxAttempts: maxAttempts,
            backoffInitial: .milliseconds(10),
            backoffCap: .milliseconds(40)
        )
    }
}
