import AMITestSupport
import EventLog
import Foundation
import NIOConcurrencyHelpers

/// `amibridge-bench nats-deliver [--events N] [--lanes L] [--processes P] [--rate R] [--seconds S]`:
/// webhooks from the event log to a receiver, through release `amibridge deliver` processes, on a
/// real nats-server (R1, file storage) and a real HTTP receiver on 127.0.0.1:
///
/// - backlog: `--events` (60,000: 20,000 calls of three events) already in the stream when `P`
///   deliver processes start (`--processes`, 1 (ordered) then 2 (shared)); events/s from their start to the last
///   webhook received, and whether each arrived once.
/// - live: events published one by one at `--rate` (500/s) for `--seconds` (10) while one deliver
///   process runs: publish → webhook received latency, p50/p99.
extension Benchmarks {
    struct NATSDeliverOptions {
        var events = 60_000
        var lanes = 4
        var processes = [1, 2]
        var rate = 500
        var seconds = 10
        var daemon = StormOptions.defaultDaemon

        init(arguments: [String]) throws {
            var remaining = arguments[...]
            func number(_ flag: String) throws -> Int {
                guard let text = remaining.popFirst(), let value = Int(text), value > 0 else { throw StormError("\(flag) needs a positive number\n\(Self.usage)") }
                return value
            }
            while let flag = remaining.popFirst() {
                switch flag {
                case "--events": events = try number(flag)
                case "--lanes": lanes = try number(flag)
                case "--processes": processes = [try number(flag)]
                case "--rate": rate = try number(flag)
                case "--seconds": seconds = try number(flag)
                case "--daemon":
                    guard let path = remaining.popFirst() else { throw StormError("--daemon needs a path") }
                    daemon = path
                default: throw StormError("unknown flag '\(flag)'\n\(Self.usage)")
                }
            }
        }

        static let usage = "usage: amibridge-bench nats-deliver [--events N] [--lanes L] [--processes P] [--rate R] [--seconds S] [--daemon PATH]"
    }

    static func natsDeliver(arguments: [String]) async throws {
        let options: NATSDeliverOptions
        do { options = try NATSDeliverOptions(arguments: arguments) } catch {
            FileHandle.standardError.write(Data("nats-deliver: \(error)\n".utf8))
            exit(2)
        }
        guard NATSServerProcess.isInstalled else {
            FileHandle.standardError.write(Data("nats-deliver: nats-server is not installed (Debian: apt install nats-server)\n".utf8))
            exit(2)
        }
        StormWatchdog.shared.arm(seconds: 900)
        let nats = NATSServerProcess(name: "deliver-bench")
        try await nats.start()
        defer { Task { await nats.stop() } }
        let connection = try await EventLogBench.connection([nats.url])
        for processes in options.processes {
            try await natsDeliverBacklog(nats: nats, connection: connection, processes: processes, options: options)
        }
        try await natsDeliverLive(nats: nats, connection: connection, options: options)
        await nats.stop()
    }

    /// A webhook body as the bridge publishes it (about 600 bytes, a call_complete's size without ViciDial fields).
    static func deliverBenchEvent(call: Int, name: String, prefix: String) -> JetStreamConnection.OutgoingMessage {
        let id = UUID().uuidString.lowercased()
        let body = #"{"event":"\#(name)","event_id":"\#(id)","occurred_at":"2026-12-05T10:00:00.000Z","uniqueid":"1764928800.\#(call)","linkedid":"1764928800.\#(call)","calldate":"2026-12-05 10:00:00","phone_number":"5551234567","agent_user":"6666","campaign_id":"SALES","lead_id":\#(call),"list_id":101,"disposition":null,"call_duration":42,"ring_duration":5,"hangup_cause":16,"hangup_cause_text":"Normal Clearing","term_reason":"CALLER","recording_filename":null,"notes":null,"server":"dialer1","click2call_id":null,"reconstructed":false,"transferred":false,"transfer_target":null,"continued_in":null}"#
        return .init(subject: "\(prefix).dialer1.\(name)", body: Array(body.utf8), msgID: id)
    }

    /// `amibridge deliver` with its own state directory, delivering `stream` to the receiver.
    static func launchDeliver(binary: String, nats: NATSServerProcess, stream: String, receiverPort: Int, lanes: Int, mode: String = "ordered") throws -> Process {
        let directory = NSTemporaryDirectory() + "amibridge-deliver-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = """
        ami:
          host: 127.0.0.1
          port: 9
          username: bench
        state_dir: \(directory)
        webhooks:
          endpoints: [crm]
          crm:
            url: http://127.0.0.1:\(receiverPort)/hook
        nats:
          urls: [\(nats.url)]
          stream: \(stream)
          deliver_lanes: \(lanes)
          deliver_mode: \(mode)
        log:
          level: warning

        """
        try config.write(toFile: directory + "/amibridge.yaml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["deliver", "--config", directory + "/amibridge.yaml"]
        var environment = ProcessInfo.processInfo.environment
        environment["AMI_SECRET"] = "bench"
        environment["WEBHOOKS_CRM_SECRET"] = "bench-secret"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Every request's delivery id, counted as they arrive; `waitFor` returns when `count` distinct ids came.
    final class DeliveryCounter: Sendable {
        private let state = NIOLockedValueBox<(seen: [String: Int], lastAt: UInt64, arrivals: [String: UInt64])>(([:], 0, [:]))
        func record(_ id: String) {
            let now = monotonicNanoseconds()
            state.withLockedValue { $0.seen[id, default: 0] += 1; $0.lastAt = now; $0.arrivals[id] = $0.arrivals[id] ?? now }
        }
        var distinct: Int { state.withLockedValue { $0.seen.count } }
        var duplicates: Int { state.withLockedValue { $0.seen.values.reduce(0) { $0 + max(0, $1 - 1) } } }
        var lastAt: UInt64 { state.withLockedValue { $0.lastAt } }
        func arrival(_ id: String) -> UInt64? { state.withLockedValue { $0.arrivals[id] } }
    }

    static func receiver(_ counter: DeliveryCounter) async throws -> RecordingHTTPServer {
        let server = try await RecordingHTTPServer.start(.script { request in
            counter.record(request.headers.first(name: "X-AMIBridge-Delivery") ?? "")
            return (.respond(status: .ok), .zero)
        })
        // The recorded requests are not kept: drain the stream as it fills.
        Task { for await _ in server.requests {} }
        return server
    }

    static func natsDeliverBacklog(nats: NATSServerProcess, connection: JetStreamConnection, processes: Int, options: NATSDeliverOptions) async throws {
        let stream = "DELIVER_BACKLOG_\(processes)"
        // Each stream its own subjects (streams on one server may not overlap).
        try await EventLogBench.createStream(connection, name: stream, subjects: ["backlog\(processes).>"], replicas: 1)
        let names = ["call_answered", "call_complete", "disposition_set"]
        let messages = (0..<options.events).map { deliverBenchEvent(call: $0 / 3, name: names[$0 % 3], prefix: "backlog\(processes)") }
        var failed = 0
        for start in stride(from: 0, to: messages.count, by: 256) {
            let batch = Array(messages[start..<min(messages.count, start + 256)])
            failed += await EventLogBench.onThread { connection.publishBatchBlocking(batch) }.filter { if case .failure = $0 { true } else { false } }.count
        }
        guard failed == 0 else { throw StormError("\(failed) publishes failed while filling the stream") }
        let counter = DeliveryCounter()
        let server = try await receiver(counter)
        let started = monotonicNanoseconds()
        let deliverers = try (0..<processes).map { _ in
            // One process: the default (ordered); several: shared, each fetching (ordered would keep one active).
            try launchDeliver(binary: options.daemon, nats: nats, stream: stream, receiverPort: server.port, lanes: options.lanes, mode: processes == 1 ? "ordered" : "shared")
        }
        let cpuStart = deliverers.map { processCPUSeconds("/proc/\($0.processIdentifier)/stat") ?? 0 }
        var lastReport = started
        while counter.distinct < options.events {
            try await Task.sleep(for: .milliseconds(20))
            let now = monotonicNanoseconds()
            if now - lastReport > 5_000_000_000 {
                lastReport = now
                EventLogBench.say("nats-deliver: \(grouped(counter.distinct))/\(grouped(options.events)) delivered after \(String(format: "%.1f", EventLogBench.seconds(started, now))) s")
            }
            guard deliverers.allSatisfy(\.isRunning) else { throw StormError("a deliver process exited") }
        }
        let seconds = EventLogBench.seconds(started, counter.lastAt)
        let cpu = zip(deliverers, cpuStart).map { (processCPUSeconds("/proc/\($0.processIdentifier)/stat") ?? 0) - $1 }.reduce(0, +)
        for process in deliverers {
            process.terminate()
            process.waitUntilExit()
        }
        try await server.shutdown()
        EventLogBench.say("nats-deliver backlog (\(processes) amibridge deliver, \(processes == 1 ? "ordered" : "shared"), \(options.lanes) lanes each, R1 file storage): \(grouped(options.events)) events "
            + "in \(String(format: "%.2f", seconds)) s = \(grouped(Int(Double(options.events) / max(seconds, 1e-9)))) webhooks/s from start to the last received; "
            + "duplicates \(counter.duplicates); deliver CPU \(String(format: "%.1f", cpu)) s")
    }

    static func natsDeliverLive(nats: NATSServerProcess, connection: JetStreamConnection, options: NATSDeliverOptions) async throws {
        let stream = "DELIVER_LIVE"
        try await EventLogBench.createStream(connection, name: stream, subjects: ["live.>"], replicas: 1)
        let counter = DeliveryCounter()
        let server = try await receiver(counter)
        let deliverer = try launchDeliver(binary: options.daemon, nats: nats, stream: stream, receiverPort: server.port, lanes: options.lanes)
        // Warm up: the consumer exists and a first webhook went through.
        let warmup = deliverBenchEvent(call: -1, name: "call_answered", prefix: "live")
        _ = try await connection.publish(subject: warmup.subject, body: warmup.body, msgID: warmup.msgID)
        while counter.arrival(warmup.msgID) == nil { try await Task.sleep(for: .milliseconds(10)) }
        let total = options.rate * options.seconds
        let interval = 1_000_000_000 / UInt64(options.rate)
        let names = ["call_answered", "call_complete", "disposition_set"]
        var sent: [(id: String, at: UInt64)] = []
        let start = monotonicNanoseconds()
        for index in 0..<total {
            let due = start + UInt64(index) * interval
            let now = monotonicNanoseconds()
            if due > now { try await Task.sleep(for: .nanoseconds(Int64(due - now))) }
            let message = deliverBenchEvent(call: index / 3, name: names[index % 3], prefix: "live")
            let at = monotonicNanoseconds()
            _ = try await connection.publish(subject: message.subject, body: message.body, msgID: message.msgID)
            sent.append((message.msgID, at))
        }
        let deadline = monotonicNanoseconds() + 30_000_000_000
        while counter.distinct < total + 1, monotonicNanoseconds() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let latencies = sent.compactMap { entry in counter.arrival(entry.id).map { Double($0 &- entry.at) / 1e6 } }.sorted()
        deliverer.terminate()
        deliverer.waitUntilExit()
        try await server.shutdown()
        EventLogBench.say("nats-deliver live (1 amibridge deliver, \(options.lanes) lanes): \(grouped(total)) events at \(options.rate)/s; "
            + "publish → webhook received p50 \(String(format: "%.2f", percentile(latencies, 0.5))) ms, p99 \(String(format: "%.2f", percentile(latencies, 0.99))) ms, "
            + "max \(String(format: "%.1f", latencies.last ?? 0)) ms; received \(grouped(latencies.count))/\(grouped(total))")
    }
}
