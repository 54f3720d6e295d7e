import AMITestSupport
import EventLog
import Foundation
import NIOConcurrencyHelpers

/// `amibridge-bench drill-ha [--calls 2000] [--rate 200] [--window 1] [--daemon PATH]`: the
/// high-availability drill of README "Running more than one bridge" at a dialer's rate, with real
/// parts on loopback: deploy/nats-cluster's three nats-servers (free ports, temporary stores) with
/// the R3 stream `DRILL`, two release `amibridge run` daemons (bridges A and B) logged in to one
/// fake Asterisk that streams the same calls to both, and the storm's receiver as the CRM.
///
/// Mid-stream, once a third of the calls have had their `call_complete`, bridge B is SIGKILLed;
/// at two thirds, the nats-server leading the stream. After the stream (and once bridge A owes
/// nothing), every call is looked up in the stream (by `Nats-Msg-Id` = `event_id`) and at the
/// receiver. Progress lines while it runs; the last line is exactly
/// `calls N, in stream N, delivered N, duplicates in stream 0, lost 0`, and the exit status is 1
/// when a call is lost, stored twice, delivered under two event ids, or a kill did not happen.
extension Benchmarks {
    static func drillHA(arguments: [String]) async throws {
        var calls = 2000
        var rate = 200.0
        var window = 1
        var daemonPath = StormOptions.defaultDaemon
        var remaining = arguments[...]
        while let flag = remaining.popFirst() {
            let value = remaining.popFirst() ?? ""
            switch flag {
            case "--calls" where Int(value).map({ $0 >= 3 }) == true: calls = Int(value)!
            case "--rate" where Double(value).map({ $0 > 0 }) == true: rate = Double(value)!
            case "--window" where Int(value).map({ $0 >= 1 }) == true: window = Int(value)!
            case "--daemon" where !value.isEmpty: daemonPath = value
            default:
                FileHandle.standardError.write(Data("usage: amibridge-bench drill-ha [--calls N (>= 3)] [--rate CALLS_PER_S] [--window W] [--daemon PATH]\n".utf8))
                exit(2)
            }
        }
        guard NATSServerProcess.isInstalled else {
            FileHandle.standardError.write(Data("drill-ha: nats-server is not installed (Debian: apt install nats-server)\n".utf8))
            exit(2)
        }
        guard FileManager.default.isExecutableFile(atPath: daemonPath) else {
            FileHandle.standardError.write(Data("drill-ha: no daemon at \(daemonPath): build it or pass --daemon / AMIBRIDGE_BIN\n".utf8))
            exit(2)
        }
        let streamSeconds = Double(calls) / rate
        StormWatchdog.shared.arm(seconds: 180 + streamSeconds * 3)
        let say = EventLogBench.say
        let began = monotonicNanoseconds()
        func elapsed() -> String { String(format: "%5.1f s", EventLogBench.seconds(began, monotonicNanoseconds())) }

        // Three nats-server nodes and the R3 stream.
        let cluster = try NATSCluster(configFiles: EventLogBench.clusterConfigFiles)
        StormWatchdog.shared.alsoKill.append { cluster.killNow() }
        try await cluster.start()
        say("drill-ha: \(elapsed()): nats-servers \(cluster.nodes.map { "\($0.name) \($0.url)" }.joined(separator: ", ")) (deploy/nats-cluster, stores under \(cluster.directory))")
        let connection = try await EventLogBench.connection(cluster.urls, requestTimeout: .seconds(2))
        let stream = "DRILL"
        try await EventLogBench.createStream(connection, name: stream, subjects: ["amibridge.>"], replicas: 3)
        say("drill-ha: \(elapsed()): stream \(stream) R3, led by \(try await connection.streamInfo(stream)?.leader ?? "?")")

        // The dialer, the CRM and the two bridges.
        let source = try CallStormSource()
        let receiver = try await StormReceiver.start(calls: calls)
        let dialer = try await CallStormServer.start(source: source)
        let nats = StormDaemon.NATS(urls: cluster.urls, stream: stream, replicas: 3, publishWindow: window)
        var bridges: [StormDaemon] = []
        for _ in 0..<2 {
            bridges.append(try StormDaemon.launch(.init(binary: daemonPath, amiPort: dialer.port, webhookPort: receiver.port, nats: nats)))
        }
        StormWatchdog.shared.daemon = bridges[0]
        StormWatchdog.shared.alsoKill.append { [bridge = bridges[1]] in bridge.killNow() }
        var apiPorts: [Int] = []
        for bridge in bridges { apiPorts.append(try await bridge.apiPort(timeout: .seconds(60))) }
        try await dialer.waitForClients(2, at: .reconciled, timeout: .seconds(60))
        say("drill-ha: \(elapsed()): bridges A (pid \(bridges[0].pid)) and B (pid \(bridges[1].pid)) logged in to the dialer; \(calls) calls at \(Int(rate))/s (\(String(format: "%.0f", streamSeconds)) s), publish_window \(window)")

        // The stream, with the two kills at a third and two thirds of the calls completed.
        let plan = CallStormPlan.rate(rate, seconds: streamSeconds, callSeconds: 2, source: source)
        let streamed = NIOLockedValueBox(false)
        let streaming = Task {
            defer { streamed.withLockedValue { $0 = true } }
            return try await dialer.stream(plan)
        }
        let tally = receiver.tally
        var bridgeKilledAt: Int?
        var nodeKilled: (name: String, at: Int)?
        var lastProgress = monotonicNanoseconds()
        func progress() async {
            let messages = (try? await connection.streamInfo(stream))?.map { "\($0.messages) messages" } ?? "no answer (no leader?)"
            say("drill-ha: \(elapsed()): call_complete at the receiver for \(tally.completedCount(0..<calls))/\(calls) calls; stream \(messages)")
        }
        while !streamed.withLockedValue({ $0 }) {
            let completed = tally.completedCount(0..<calls)
            if bridgeKilledAt == nil, completed >= calls / 3 {
                kill(bridges[1].pid, SIGKILL)
                bridgeKilledAt = completed
                say("drill-ha: \(elapsed()): SIGKILL bridge B (pid \(bridges[1].pid)) with \(completed)/\(calls) calls completed")
            }
            if bridgeKilledAt != nil, nodeKilled == nil, completed >= 2 * calls / 3,
               let leader = try? await connection.streamInfo(stream)?.leader, let node = cluster.node(named: leader) {
                await node.stop()
                nodeKilled = (leader, completed)
                say("drill-ha: \(elapsed()): SIGKILL nats-server \(leader) (the stream's leader) with \(completed)/\(calls) calls completed")
            }
            if monotonicNanoseconds() - lastProgress > 1_000_000_000 {
                lastProgress = monotonicNanoseconds()
                await progress()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let run = try await streaming.value
        say("drill-ha: \(elapsed()): the dialer has written every call (\(run.events) events)")

        // Bridge A delivers and publishes what is left (at most 120 s, or 30 s without progress).
        let deadline = ContinuousClock.now + .seconds(120)
        var settled = false
        var lastChange = (ContinuousClock.now, -1, -1.0)
        while ContinuousClock.now < deadline {
            let metrics = StormMetrics.scrape(port: apiPorts[0])
            let completed = tally.completedCount(0..<calls)
            let pending = metrics.map { $0.total("amibridge_nats_pending") + $0.total("amibridge_outbox_depth") } ?? -1
            if completed == calls, pending == 0 { settled = true; break }
            if completed != lastChange.1 || pending != lastChange.2 { lastChange = (.now, completed, pending) }
            if ContinuousClock.now - lastChange.0 > .seconds(30) { break }
            if monotonicNanoseconds() - lastProgress > 1_000_000_000 {
                lastProgress = monotonicNanoseconds()
                await progress()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let metrics = StormMetrics.scrape(port: apiPorts[0])
        func published(_ result: String) -> Int {
            Int(metrics?.samples.first { $0.name == "amibridge_nats_published_total" && $0.labels.contains("\"\(result)\"") }?.value ?? 0)
        }
        say("drill-ha: \(elapsed()): bridge A \(settled ? "owes nothing" : "STILL OWES"): \(published("ack")) events stored by its publish, "
            + "\(published("duplicate")) acknowledged as duplicates (stored by B first), \(published("error")) publishes failed and retried")

        // Every call, in the stream and at the receiver.
        let messages = try await connection.messages(stream: stream)
        var seen = Set<String>()
        var duplicates = 0
        var perCall = [Int](repeating: 0, count: calls)
        for message in messages {
            if let id = message.msgID, !seen.insert(id).inserted { duplicates += 1 }
            guard message.subject.hasSuffix(".call_complete"),
                  let object = (try? JSONSerialization.jsonObject(with: Data(message.body))) as? [String: Any],
                  let linkedid = object["linkedid"] as? String,
                  let call = CallStormSource.call(ofLinkedid: Array(linkedid.utf8)), call < calls
            else { continue }
            perCall[call] += 1
        }
        duplicates += perCall.reduce(0) { $0 + max(0, $1 - 1) }
        let inStream = perCall.filter { $0 > 0 }.count
        let arrived = tally.completedAt(0..<calls)
        let delivered = arrived.filter { $0 != 0 }.count
        let lost = zip(perCall, arrived).filter { $0.0 == 0 || $0.1 == 0 }.count
        let snapshot = tally.snapshot
        say("drill-ha: \(elapsed()): stream \(stream) holds \(messages.count) messages (led by \(try await connection.streamInfo(stream)?.leader ?? "?")); "
            + "receiver: \(snapshot.requests) webhooks, \(snapshot.duplicateDeliveries) second deliveries under the same event_id, \(snapshot.reemitted) under another event_id")
        var failures: [String] = []
        if bridgeKilledAt == nil { failures.append("bridge B was not killed mid-stream") }
        if nodeKilled == nil { failures.append("no nats-server was killed mid-stream") }
        if snapshot.reemitted > 0 { failures.append("\(snapshot.reemitted) webhooks under another event_id") }
        if !failures.isEmpty { say("drill-ha: FAILED: " + failures.joined(separator: "; ")) }

        for bridge in bridges { await bridge.stop() }
        await dialer.close()
        await receiver.stop()
        await cluster.stop()
        // The watchdog holds the cluster until exit, so its deinit would never tidy up.
        try? FileManager.default.removeItem(atPath: cluster.directory)
        say("calls \(calls), in stream \(inStream), delivered \(delivered), duplicates in stream \(duplicates), lost \(lost)")
        exit(lost == 0 && duplicates == 0 && inStream == calls && delivered == calls && failures.isEmpty ? 0 : 1)
    }
}
