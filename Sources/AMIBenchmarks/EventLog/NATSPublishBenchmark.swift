import AMITestSupport
import EventLog
import Foundation
import NIOConcurrencyHelpers

/// `amibridge-bench nats-publish [--messages N] [--window W] [--calls N] [--bytes B] [--no-cluster]`:
/// what the event log costs, against real nats-servers (a temporary file store each):
///
/// - publish: `--messages` (20,000) messages of `--bytes` (1,100: a storm call's call_complete
///   body) into a file-storage stream, every one acknowledged: one at a time, each waiting for its
///   ack (`publishBlocking`, what `publish_window: 1` does), then pipelined `--window` (256) in
///   flight (`publishBatchBlocking`, `publish_window: 256`). On one nats-server (R1), then on
///   deploy/nats-cluster's three nodes on loopback (R3) unless `--no-cluster`.
/// - end to end: a burst of `--calls` (20,000) storm calls into a release `amibridge run` with
///   `nats:` on (R1), from the first AMI byte written until the stream holds every event the
///   daemon stored (its `amibridge_nats_pending` back at 0), with `publish_window` 1 and `--window`.
extension Benchmarks {
    struct NATSPublishOptions {
        var messages = 20_000
        var window = 256
        var calls = 20_000
        var bytes = 1_100
        var cluster = true
        var daemon = StormOptions.defaultDaemon

        init(arguments: [String]) throws {
            var remaining = arguments[...]
            func number(_ flag: String) throws -> Int {
                guard let text = remaining.popFirst(), let value = Int(text), value >= 0 else { throw StormError("\(flag) needs a number\n\(Self.usage)") }
                return value
            }
            while let flag = remaining.popFirst() {
                switch flag {
                case "--messages": messages = max(1, try number(flag))
                case "--window": window = max(1, try number(flag))
                case "--calls": calls = try number(flag)
                case "--bytes": bytes = max(1, try number(flag))
                case "--no-cluster": cluster = false
                case "--daemon":
                    guard let path = remaining.popFirst() else { throw StormError("--daemon needs a path") }
                    daemon = path
                default: throw StormError("unknown flag '\(flag)'\n\(Self.usage)")
                }
            }
        }

        static let usage = "usage: amibridge-bench nats-publish [--messages N] [--window W] [--calls N (0: no end-to-end)] [--bytes B] [--no-cluster] [--daemon PATH]"
    }

    static func natsPublish(arguments: [String]) async throws {
        let options: NATSPublishOptions
        do { options = try NATSPublishOptions(arguments: arguments) } catch {
            FileHandle.standardError.write(Data("nats-publish: \(error)\n".utf8))
            exit(2)
        }
        guard NATSServerProcess.isInstalled else {
            FileHandle.standardError.write(Data("nats-publish: nats-server is not installed (Debian: apt install nats-server)\n".utf8))
            exit(2)
        }
        StormWatchdog.shared.arm(seconds: 900)

        let single = NATSServerProcess(name: "bench")
        StormWatchdog.shared.alsoKill.append { single.killNow() }
        try await single.start()
        try await natsPublishRaw(urls: [single.url], replicas: 1, label: "R1, 1 nats-server", options: options)
        if options.cluster {
            let cluster = try NATSCluster(configFiles: EventLogBench.clusterConfigFiles)
            StormWatchdog.shared.alsoKill.append { cluster.killNow() }
            try await cluster.start()
            try await natsPublishRaw(urls: cluster.urls, replicas: 3, label: "R3, 3 nats-servers (deploy/nats-cluster on loopback)", options: options)
            await cluster.stop()
            // The watchdog holds the cluster until exit, so its deinit would never tidy up.
            try? FileManager.default.removeItem(atPath: cluster.directory)
        }
        if options.calls > 0 {
            for window in Set([1, options.window]).sorted() {
                try await natsPublishEndToEnd(url: single.url, window: window, options: options)
            }
        }
        await single.stop()
        try? FileManager.default.removeItem(atPath: single.storeDirectory)
    }

    /// Sync then pipelined publishes into a fresh stream; every message must be acknowledged.
    static func natsPublishRaw(urls: [String], replicas: Int, label: String, options: NATSPublishOptions) async throws {
        let connection = try await EventLogBench.connection(urls)
        let name = "BENCH_R\(replicas)"
        try await EventLogBench.createStream(connection, name: name, subjects: ["bench.>"], replicas: replicas)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: options.bytes)
        let count = options.messages

        let sync = await EventLogBench.onThread { () -> (seconds: Double, failures: Int, latencies: [Double]) in
            var failures = 0
            var latencies: [Double] = []
            latencies.reserveCapacity(count)
            let start = monotonicNanoseconds()
            for index in 0..<count {
                let sent = monotonicNanoseconds()
                do {
                    _ = try connection.publishBlocking(subject: "bench.sync", body: body, msgID: "sync-\(index)")
                } catch {
                    failures += 1
                }
                latencies.append(Double(monotonicNanoseconds() - sent) / 1e6)
            }
            return (EventLogBench.seconds(start, monotonicNanoseconds()), failures, latencies.sorted())
        }
        let window = options.window
        let pipelined = await EventLogBench.onThread { () -> (seconds: Double, failures: Int) in
            var failures = 0
            let start = monotonicNanoseconds()
            var next = 0
            while next < count {
                let batch = (next..<min(next + window, count)).map {
                    JetStreamConnection.OutgoingMessage(subject: "bench.pipelined", body: body, msgID: "pipelined-\($0)")
                }
                next += batch.count
                for outcome in connection.publishBatchBlocking(batch) {
                    if case .failure = outcome { failures += 1 }
                }
            }
            return (EventLogBench.seconds(start, monotonicNanoseconds()), failures)
        }
        let stored = try await connection.streamInfo(name)?.messages ?? 0
        let syncRate = Double(count) / max(sync.seconds, 1e-9)
        let pipelinedRate = Double(count) / max(pipelined.seconds, 1e-9)
        EventLogBench.say("nats-publish \(label), file storage, \(grouped(count)) messages of \(grouped(options.bytes)) bytes each way: "
            + "sync (one publish, wait for its ack) \(grouped(Int(syncRate))) msgs/s (ack p50 \(String(format: "%.2f", percentile(sync.latencies, 0.5))) ms, "
            + "p99 \(String(format: "%.2f", percentile(sync.latencies, 0.99))) ms); "
            + "pipelined (window \(window)) \(grouped(Int(pipelinedRate))) msgs/s = \(String(format: "%.1f", pipelinedRate / max(syncRate, 1e-9)))x; "
            + "stored \(grouped(Int(stored)))/\(grouped(2 * count)), failed \(sync.failures + pipelined.failures)")
    }

    /// A storm burst into the release daemon with `nats:` on; the time until the stream has every event.
    static func natsPublishEndToEnd(url: String, window: Int, options: NATSPublishOptions) async throws {
        var stormOptions = try StormOptions(arguments: ["--calls", String(options.calls), "--phase", "burst"])
        stormOptions.daemon = options.daemon
        let stream = "E2E_W\(window)"
        let prefix = "e2e\(window)"
        let rig = try await StormRig.start(
            options: stormOptions, calls: options.calls,
            nats: StormDaemon.NATS(urls: [url], stream: stream, subjectPrefix: prefix, replicas: 1, publishWindow: window)
        )
        let connection = try await EventLogBench.connection([url])
        // The daemon creates the stream at start; wait for it so the sampler reads counts, not errors.
        let deadline = ContinuousClock.now + .seconds(30)
        while try await connection.streamInfo(stream) == nil {
            guard ContinuousClock.now < deadline else { throw StormError("the daemon did not create stream \(stream)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        let cpuBefore = rig.daemon.cpuSeconds() ?? 0
        // The stream's count every 20 ms from the first byte on, and when it last grew.
        let sampled = NIOLockedValueBox<(count: UInt64, grewAt: UInt64)>((0, monotonicNanoseconds()))
        let sampler = Task {
            while !Task.isCancelled {
                if let now = try? await connection.streamInfo(stream)?.messages {
                    sampled.withLockedValue { if now > $0.count { $0 = (now, monotonicNanoseconds()) } }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let plan = CallStormPlan.burst(calls: options.calls, source: rig.source)
        let run = try await rig.server.stream(plan)
        let complete = await rig.waitForWebhooks(0..<options.calls)
        // Until the daemon has published everything it stored (at most 120 s more).
        let publishDeadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < publishDeadline {
            if let metrics = await rig.metrics(), metrics.samples.contains(where: { $0.name == "amibridge_nats_pending" }),
               metrics.total("amibridge_nats_pending") == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        sampler.cancel()
        _ = await sampler.value
        let final = try await connection.streamInfo(stream)?.messages ?? 0
        sampled.withLockedValue { if final > $0.count { $0 = (final, monotonicNanoseconds()) } }
        let (count, grewAt) = sampled.withLockedValue { $0 }
        let cpu = (rig.daemon.cpuSeconds() ?? 0) - cpuBefore
        let seconds = EventLogBench.seconds(run.startedAt, grewAt)
        let metrics = await rig.metrics()
        let pending = metrics?.total("amibridge_nats_pending") ?? -1
        let tally = rig.receiver.tally.completeness(0..<options.calls)
        await rig.stop()
        EventLogBench.say("nats-publish end to end (amibridge run, nats: on, R1 file storage, publish_window \(window)): \(grouped(options.calls)) calls "
            + "(\(grouped(run.events)) AMI events) burst in; \(grouped(Int(count))) events in the stream after \(String(format: "%.2f", seconds)) s = "
            + "\(grouped(Int(Double(count) / max(seconds, 1e-9)))) events/s, \(grouped(Int(Double(options.calls) / max(seconds, 1e-9)))) calls/s into the stream; "
            + "pending at the end \(Int(pending)); call_complete webhooks for \(grouped(tally.callCompleteOnce)) calls\(complete ? "" : " (INCOMPLETE)"); daemon CPU \(String(format: "%.1f", cpu)) s")
    }
}
