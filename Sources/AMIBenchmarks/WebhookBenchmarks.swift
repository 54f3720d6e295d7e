import AMITestSupport
import CRMSink
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// `amibridge-bench webhooks [throughput [events [workers]] | latency [seconds] | pending [rows]]`, against a
/// local NIO receiver, with the real outbox (WAL, synchronous=FULL) in a temporary directory:
///
/// - `throughput`: `events` (default 50,000) enqueued, then delivered with `workers` (default: the
///   daemon's default `webhooks.workers`) requests in flight; deliveries/s.
/// - `latency`: 500 events/s emitted one by one (group commit) for `seconds` (default 10);
///   emit → request received at the receiver, p50/p99/max.
/// - `pending`: `rows` (default 1,000,000) enqueued in transactions of 1,000 with no dispatcher;
///   enqueue rate of the first and last 10 %, RSS, file size, and how long a claim takes then.
extension Benchmarks {
    static func webhooks(arguments: [String]) throws {
        let count = arguments.dropFirst().first.flatMap(Int.init)
        switch arguments.first {
        case "throughput":
            let workers = arguments.dropFirst(2).first.flatMap(Int.init) ?? WebhookDispatcher.Configuration().workers
            try webhookThroughput(events: count ?? 50_000, workers: workers)
        case "latency": try webhookLatency(seconds: count ?? 10)
        case "pending": try webhookPending(rows: count ?? 1_000_000)
        case nil:
            try webhookThroughput(events: count ?? 50_000, workers: WebhookDispatcher.Configuration().workers)
            try webhookLatency(seconds: 10)
            try webhookPending(rows: 1_000_000)
        default:
            FileHandle.standardError.write(Data("usage: amibridge-bench webhooks [throughput [events [workers]] | latency [seconds] | pending [rows]]\n".utf8))
            exit(2)
        }
    }

    static func webhookThroughput(events: Int, workers: Int) throws {
        let receiver = try BenchmarkReceiver.start()
        defer { receiver.stop() }
        try withBenchmarkOutbox { outbox in
            let endpoint = try benchmarkEndpoint(port: receiver.port)
            let emitter = WebhookEmitter(outbox: outbox, endpoints: [endpoint])
            for batch in stride(from: 0, to: events, by: 1000) {
                try emitter.emitBlocking((batch..<min(batch + 1000, events)).map { benchmarkEvent($0) })
            }
            let dispatcher = benchmarkDispatcher(outbox: outbox, endpoint: endpoint, workers: workers)
            let start = ContinuousClock.now
            let stop = runInBackground { try await dispatcher.run() }
            while dispatcher.metrics.delivered < events { usleep(2000) }
            let elapsed = seconds(ContinuousClock.now - start)
            stop()
            print("webhooks throughput: \(events) events, \(workers) requests in flight, 1 local receiver, synchronous=FULL")
            print(String(format: "webhooks throughput: %.0f deliveries/s (%.2f s); %d requests received", Double(events) / elapsed, elapsed, receiver.received))
        }
    }

    static func webhookLatency(seconds duration: Int) throws {
        let receiver = try BenchmarkReceiver.start()
        defer { receiver.stop() }
        try withBenchmarkOutbox { outbox in
            let endpoint = try benchmarkEndpoint(port: receiver.port)
            let emitter = WebhookEmitter(outbox: outbox, endpoints: [endpoint])
            let dispatcher = benchmarkDispatcher(outbox: outbox, endpoint: endpoint)
            let stop = runInBackground { try await dispatcher.run() }
            let total = 500 * duration
            let emitted = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])
            let pacing = runInBackground {
                let clock = ContinuousClock()
                let start = clock.now
                for index in 0..<total {
                    try await clock.sleep(until: start + .milliseconds(2 * index))
                    let event = benchmarkEvent(index)
                    emitted.withLockedValue { $0[event.eventID.uuidString.lowercased()] = clock.now }
                    // Not awaited one after the other: each emit waits for its commit, as concurrent calls would.
                    Task { try await emitter.emit(event) }
                }
            }
            while dispatcher.metrics.delivered < total { usleep(5000) }
            pacing()
            stop()
            let sent = emitted.withLockedValue { $0 }
            let latencies = receiver.arrivals().compactMap { id, arrival in sent[id].map { seconds(arrival - $0) * 1000 } }.sorted()
            func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
            print("webhooks latency: \(total) events at 500/s, emit (group commit, fsync) → received by the CRM")
            print(String(format: "webhooks latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms", percentile(0.5), percentile(0.99), latencies.last ?? 0))
        }
    }

    static func webhookPending(rows: Int) throws {
        try withBenchmarkOutbox { outbox in
            let endpoint = try benchmarkEndpoint(port: 9)
            let emitter = WebhookEmitter(outbox: outbox, endpoints: [endpoint])
            let tenth = max(rows / 10, 1000)
            var rates: [Double] = []
            let before = residentMemoryBytes()
            var start = ContinuousClock.now
            for batch in stride(from: 0, to: rows, by: 1000) {
                try emitter.emitBlocking((batch..<min(batch + 1000, rows)).map { benchmarkEvent($0) })
                if (batch + 1000) % tenth == 0 {
                    rates.append(Double(tenth) / seconds(ContinuousClock.now - start))
                    start = ContinuousClock.now
                }
            }
            let resident = residentMemoryBytes()
            let claimStart = ContinuousClock.now
            let claimed = try outbox.claim(limit: 16)
            let claimTime = seconds(ContinuousClock.now - claimStart) * 1000
            let fileSize = (try FileManager.default.attributesOfItem(atPath: outbox.path)[.size] as? Int) ?? 0
            print("webhooks pending: \(rows) rows enqueued in transactions of 1000 (synchronous=FULL), no dispatcher")
            print(String(format: "webhooks pending: enqueue %.0f rows/s over the first 10%%, %.0f rows/s over the last 10%%", rates.first ?? 0, rates.last ?? 0))
            print(String(format: "webhooks pending: RSS %.1f MB (%.1f MB before), outbox file %.0f MB; a claim of %d took %.2f ms",
                         Double(resident) / 1e6, Double(before) / 1e6, Double(fileSize) / 1e6, claimed.count, claimTime))
        }
    }

    // MARK: Helpers

    static func benchmarkEvent(_ index: Int) -> WebhookEvent {
        WebhookEvent(
            name: index % 2 == 0 ? .callComplete : .dispositionSet,
            callKey: "bench-\(index / 2)",
            uniqueid: "1768487520.\(index)",
            linkedid: "1768487520.\(index / 2)",
            calldate: "2026-01-15 14:32:00",
            phoneNumber: "18005551234",
            agentUser: "agent_001",
            campaignID: "BENCH",
            leadID: index,
            listID: 101,
            disposition: index % 2 == 0 ? nil : "SALE",
            callDuration: 245,
            ringDuration: 4,
            hangupCause: 16,
            hangupCauseText: "Normal Clearing",
            termReason: "CALLER",
            recordingFilename: "/var/spool/asterisk/monitor/20260115-143200-18005551234.wav",
            server: "dialer1"
        )
    }

    static func benchmarkEndpoint(port: Int) throws -> WebhookEndpoint.Configuration {
        try WebhookEndpoint.Configuration(name: "bench", url: "http://127.0.0.1:\(port)/hook", secret: "bench-secret")
    }

    static func benchmarkDispatcher(
        outbox: Outbox, endpoint: WebhookEndpoint.Configuration, workers: Int = WebhookDispatcher.Configuration().workers
    ) -> WebhookDispatcher {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        return WebhookDispatcher(outbox: outbox, endpoints: [endpoint], configuration: .init(workers: workers), logger: logger)
    }

    static func withBenchmarkOutbox(_ body: (Outbox) throws -> Void) throws {
        let directory = NSTemporaryDirectory() + "amibridge-bench-outbox-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(try Outbox(stateDirectory: directory))
    }

    /// Starts `body` as a task; the returned function cancels it and waits for it to end.
    static func runInBackground(_ body: @escaping @Sendable () async throws -> Void) -> () -> Void {
        let done = DispatchSemaphore(value: 0)
        let task = Task {
            try? await body()
            done.signal()
        }
        return {
            task.cancel()
            done.wait()
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// A minimal CRM: answers every request `200` at once and notes when each delivery id arrived.
final class BenchmarkReceiver: Sendable {
    let port: Int
    private let channel: any Channel
    private let store: Arrivals

    private init(channel: any Channel, store: Arrivals) {
        self.channel = channel
        self.port = channel.localAddress!.port!
        self.store = store
    }

    static func start() throws -> BenchmarkReceiver {
        let store = Arrivals()
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ReceiverHandler(arrivals: store))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .wait()
        return BenchmarkReceiver(channel: channel, store: store)
    }

    var received: Int { self.store.log.withLockedValue { $0.count } }

    /// Delivery id and arrival time of every request so far.
    func arrivals() -> [(String, ContinuousClock.Instant)] { self.store.log.withLockedValue { $0 } }

    func stop() { try? self.channel.close().wait() }
}

final class Arrivals: Sendable {
    let log = NIOLockedValueBox<[(String, ContinuousClock.Instant)]>([])
}

private final class ReceiverHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let arrivals: Arrivals
    private var delivery = ""

    init(arrivals: Arrivals) { self.arrivals = arrivals }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.delivery = head.headers["X-AMIBridge-Delivery"].first ?? ""
        case .body:
            break
        case .end:
            let now = ContinuousClock.now
            self.arrivals.log.withLockedValue { $0.append((self.delivery, now)) }
            let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "0"])
            context.write(self.wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
