import AMIProtocol
import AMITestSupport
import EventMapper
import Foundation
import MariaDB
import NIOCore
import ViciDialTestSupport

/// Benchmarks of amibridge's hot paths, run by hand in release mode and reported in the README:
///
///     swift run -c release amibridge-bench decode [megabytes]
///     swift run -c release amibridge-bench track [repetitions]
///     swift run -c release amibridge-bench live-calls [calls]
///     swift run -c release amibridge-bench watcher [calls]   (needs the private MariaDB's env)
///
/// `decode`: the recorded Asterisk 20 event streams, repeated to at least `megabytes` (default
/// 100), cut into 64 KiB reads like a socket delivers them, decoded into messages on one core.
/// `track`: the 20 interleaved calls of `burst-20-calls`, repeated with fresh uniqueids, through
/// the call tracker on one core (decoding excluded).
/// `watcher`: queries per poll and poll latency of the disposition watcher with that many calls
/// waiting, against MariaDB (`eval "$(scripts/mariadb.sh start DIR)"` first; uses its root user).
/// `live-calls`: resident memory per live call with that many calls answered and not yet hung up.
/// `fake-ami`: an Asterisk on 127.0.0.1 (port printed) that answers every Originate at once, for
/// the click-to-call load test (scripts/bench-api.sh); runs until killed.
/// `storm`: the release daemon end to end, AMI bytes in to webhooks out (Storm/StormBenchmark.swift;
/// scripts/bench-storm.sh, scripts/bench-soak.sh).
/// `nats-publish`: JetStream publishes acknowledged per second, sync and pipelined, on one
/// nats-server and on a 3-node cluster, and a storm through the daemon into the stream
/// (EventLog/NATSPublishBenchmark.swift).
/// `nats-deliver`: webhooks/s from the event log through `amibridge deliver` to a receiver, and
/// publish → webhook latency (EventLog/NATSDeliverBenchmark.swift).
/// `drill-ha`: two daemons, three nats-servers, one of each SIGKILLed mid-stream; every call
/// counted in the stream and at the receiver (EventLog/HADrill.swift; scripts/drill-ha.sh).
@main
struct Benchmarks {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        switch arguments.first {
        case "decode", nil:
            try decode(megabytes: arguments.dropFirst().first.flatMap(Int.init) ?? 100)
        case "track":
            try track(repetitions: arguments.dropFirst().first.flatMap(Int.init) ?? 300)
        case "ingest": try await IngestBenchmark.run(repetitions: arguments.dropFirst().first.flatMap(Int.init) ?? 500)
        case "live-calls":
            try liveCalls(count: arguments.dropFirst().first.flatMap(Int.init) ?? 10_000)
        case "watcher":
            try await watcher(calls: arguments.dropFirst().first.flatMap(Int.init) ?? 10_000)
        case "webhooks":
            try webhooks(arguments: Array(arguments.dropFirst()))
        case "fake-ami":
            try await fakeAMI()
        case "storm":
            try await storm(arguments: Array(arguments.dropFirst()))
        case "nats-publish":
            try await natsPublish(arguments: Array(arguments.dropFirst()))
        case "drill-ha":
            try await drillHA(arguments: Array(arguments.dropFirst()))
        case "nats-deliver":
            try await natsDeliver(arguments: Array(arguments.dropFirst()))
        default:
            FileHandle.standardError.write(Data("usage: amibridge-bench decode [megabytes] | track [repetitions] | live-calls [calls] | watcher [calls] | webhooks throughput|latency|pending [n] | fake-ami | storm [soak|feed] [flags] | nats-publish [flags] | nats-deliver [flags] | drill-ha [flags]\n".utf8))
            exit(2)
        }
    }

    static func fakeAMI() async throws {
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.queuingOriginates(reportingSuccess: true)) { server in
            // Unbuffered: the script waits for this line.
            FileHandle.standardOutput.write(Data("fake AMI on 127.0.0.1:\(server.port)\n".utf8))
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
    }

    static func decode(megabytes: Int) throws {
        // The bytes after each recording's banner line: only messages, as a long session has.
        var sample: [UInt8] = []
        for name in try AMICapture.names(in: "asterisk-20") {
            let bytes = try AMICapture.load("asterisk-20", name).receivedBytes
            let bannerEnd = (bytes.firstIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
            sample += bytes[bannerEnd...]
        }
        let target = megabytes * 1_000_000
        var stream = ByteBuffer()
        stream.reserveCapacity(target + sample.count)
        while stream.readableBytes < target { stream.writeBytes(sample) }
        let totalBytes = stream.readableBytes

        let readSize = 64 * 1024
        var best = Double.infinity
        var messages = 0
        var fieldsSeen = 0
        for _ in 0..<5 {
            let processor = NIOSingleStepByteToMessageProcessor(AMIFrameDecoder())
            var input = stream
            messages = 0
            fieldsSeen = 0
            let start = ContinuousClock.now
            while let chunk = input.readSlice(length: min(readSize, input.readableBytes)), chunk.readableBytes > 0 {
                try processor.process(buffer: chunk) { frame in
                    if case .message(let message) = frame {
                        messages += 1
                        fieldsSeen &+= message.count
                    }
                }
            }
            let elapsed = ContinuousClock.now - start
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        let megabytesDecoded = Double(totalBytes) / 1_000_000
        print("decode: \(messages) messages (\(fieldsSeen) fields), \(String(format: "%.1f", megabytesDecoded)) MB, best of 5 runs on one core")
        print(String(format: "decode: %.0f events/s, %.0f MB/s, %.1f s", Double(messages) / best, megabytesDecoded / best, best))
    }
}

extension Benchmarks {
    /// The burst recording's messages, with every uniqueid moved to a new epoch so each
    /// repetition is 20 new calls.
    static func burstMessages(repetition: Int, untilFirstHangup: Bool = false) throws -> [AMIMessage] {
        var text = String(decoding: try AMICapture.load("asterisk-20", "burst-20-calls").receivedBytes, as: UTF8.self)
        text = String(text[text.range(of: "\r\n")!.upperBound...])
        text = text.replacingOccurrences(of: "1795615948.", with: "\(2_000_000_000 + repetition).")
        var decoder = AMIFrameDecoder()
        var buffer = ByteBuffer(string: text)
        var messages: [AMIMessage] = []
        while let frame = try decoder.decode(buffer: &buffer) {
            guard case .message(let message) = frame else { continue }
            if untilFirstHangup, message.eventName == "Hangup" || message.eventName == "HangupRequest" || message.eventName == "SoftHangupRequest" { continue }
            messages.append(message)
        }
        return messages
    }

    static func track(repetitions: Int) throws {
        var batches: [[AMIMessage]] = []
        for repetition in 0..<repetitions { batches.append(try burstMessages(repetition: repetition)) }
        let total = batches.reduce(0) { $0 + $1.count }
        var best = Double.infinity
        var completed = 0
        for _ in 0..<5 {
            var tracker = CallTracker(configuration: .init(server: "bench"))
            completed = 0
            var time = 1_000.0
            let start = ContinuousClock.now
            for batch in batches {
                for message in batch {
                    time += 0.0001
                    for update in tracker.receive(message, at: time) {
                        if case .completed = update { completed += 1 }
                    }
                }
            }
            let elapsed = ContinuousClock.now - start
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        print("track: \(total) events, \(completed) calls completed, best of 5 runs on one core")
        print(String(format: "track: %.0f events/s, %.2f s", Double(total) / best, best))
    }

    static func liveCalls(count: Int) throws {
        // Only the channel events up to the answer: every call stays live.
        let repetitions = (count + 19) / 20
        var batches: [[AMIMessage]] = []
        for repetition in 0..<repetitions { batches.append(try burstMessages(repetition: repetition, untilFirstHangup: true)) }
        let before = heapBytesInUse()
        var tracker = CallTracker(configuration: .init(server: "bench"))
        var time = 1_000.0
        for batch in batches {
            for message in batch {
                time += 0.0001
                _ = tracker.receive(message, at: time)
            }
        }
        let after = heapBytesInUse()
        let live = tracker.liveCallCount
        print("live-calls: \(live) live calls, \(after - before) bytes more resident memory, \((after - before) / max(live, 1)) bytes per live call")
        withExtendedLifetime(tracker) {}
    }

    /// Resident memory: the recorded messages are decoded before the first reading, so the
    /// growth between readings is the tracker's state.
    static func heapBytesInUse() -> Int {
        residentMemoryBytes()
    }
}

extension Benchmarks {
    static func watcher(calls: Int) async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let socket = environment["AMIBRIDGE_DB_SOCKET"], let database = environment["AMIBRIDGE_DB_NAME"] else {
            FileHandle.standardError.write(Data("watcher: start the private MariaDB first: eval \"$(scripts/mariadb.sh start /tmp/amibridge-db)\"\n".utf8))
            exit(2)
        }
        let client = MariaDBClient(configuration: .init(
            endpoint: .unixSocket(path: socket),
            username: environment["AMIBRIDGE_DB_ROOT_USER"] ?? "root",
            password: environment["AMIBRIDGE_DB_ROOT_PASSWORD"] ?? "",
            database: database
        ))
        let result = try await DispositionWatcherBenchmark.run(client: client, waitingCalls: calls, polls: 5)
        let latencies = result.pollLatencies.map { String(format: "%.1f", Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1000) }
        print("watcher: \(result.waitingCalls) waiting calls, \(result.polls) polls, \(result.queriesPerPoll) queries per poll, poll latency ms: \(latencies.joined(separator: ", "))")
        try await client.close()
    }
}
