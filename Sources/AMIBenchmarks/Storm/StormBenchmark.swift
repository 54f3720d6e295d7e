import AMITestSupport
import Foundation

/// `amibridge-bench storm`: the bridge end to end, bytes in over TCP to webhooks received, against
/// a release `amibridge run` in its own process (see ``StormRig``). Every call of the storm is
/// the recorded Asterisk 20 click-to-call plus a dialplan `UserEvent`, so it must give exactly
/// three webhooks: `call_answered`, `user_event`, `call_complete`.
///
/// - burst: `--calls` (default 20,000) calls as fast as the daemon reads them, about 20
///   interleaved: events/s written and read by the daemon (its `amibridge_ami_events_total`),
///   whether it dropped any (drop/overflow series on `/metrics`, "event buffer full" in its log,
///   AMI reconnects), and calls/s until every `call_complete` has arrived.
/// - latency: `--rate` (500) calls/s for `--seconds` (20): from the moment a call's final
///   `Hangup` was handed to the socket to its `call_complete` at the receiver, p50/p99/max.
///
/// One readable line per phase; `--json` adds one JSON object with every figure.
extension Benchmarks {
    static func storm(arguments: [String]) async throws {
        do {
            switch arguments.first {
            case "soak": try await stormSoak(options: StormOptions(arguments: Array(arguments.dropFirst()), soak: true))
            case "feed": try await stormFeed(options: StormOptions(arguments: Array(arguments.dropFirst())))
            default: try await stormPhases(options: StormOptions(arguments: arguments))
            }
        } catch let error as StormError {
            FileHandle.standardError.write(Data("storm: \(error)\n".utf8))
            exit(1)
        }
    }

    static func stormPhases(options: StormOptions) async throws {
        let burstCalls = options.phase == "latency" ? 0 : options.burstCalls
        let latencyCalls = options.phase == "burst" ? 0 : Int((options.rate * options.seconds).rounded())
        StormWatchdog.shared.arm(seconds: options.timeout ?? (120 + Double(burstCalls) / 500 + options.seconds * 3))
        let rig = try await StormRig.start(options: options, calls: burstCalls + latencyCalls)
        var results: [String: Any] = [
            "daemon": options.daemon, "events_per_call": rig.source.eventsPerCall, "bytes_per_call": rig.source.bytesPerCall,
        ]
        if burstCalls > 0 {
            let burst = try await stormBurst(rig, calls: burstCalls)
            print(burst.line)
            fflush(nil)
            results["burst"] = burst.json
        }
        if latencyCalls > 0 {
            let latency = try await stormLatency(rig, firstCall: burstCalls)
            print(latency.line)
            results["latency"] = latency.json
        }
        let log = rig.daemon.log
        results["daemon_log"] = ["lines": log.lines, "by_level": log.byLevel, "event_buffer_full": log.bufferFull]
        for line in log.firstProblems { print("daemon log: \(line)") }
        await rig.stop()
        if options.json { print(jsonLine(results)) }
    }

    /// `--timeline`: every 250 ms, events the daemon has read, its outbox depth, webhooks
    /// received and its CPU, to see which stage a burst waits on at its end.
    static func stormTimeline(_ rig: StormRig, eventsBefore: Double) async {
        let start = ContinuousClock.now
        let cpuBefore = rig.daemon.cpuSeconds() ?? 0
        while !Task.isCancelled {
            let metrics = await rig.metrics()
            let elapsed = (ContinuousClock.now - start) / .seconds(1)
            let read = (metrics?.total("amibridge_ami_events_total") ?? 0) - eventsBefore
            let line = String(
                format: "storm timeline: %5.2f s  read %9.0f events  outbox %6.0f  received %6d webhooks  daemon CPU %5.2f s\n",
                elapsed, read, metrics?.total("amibridge_outbox_depth") ?? 0, rig.receiver.tally.snapshot.requests,
                (rig.daemon.cpuSeconds() ?? 0) - cpuBefore
            )
            FileHandle.standardError.write(Data(line.utf8))
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    static func stormBurst(_ rig: StormRig, calls: Int) async throws -> (line: String, json: [String: Any]) {
        try await rig.server.waitForClients(1, at: .reconciled, timeout: .seconds(60))
        let before = await rig.metrics()
        let disconnectsBefore = rig.server.clientCounts.disconnects
        let bufferFullBefore = rig.daemon.log.bufferFull
        let droppedBefore = rig.daemon.log.droppedTotal
        let eventsBefore = before?.total("amibridge_ami_events_total") ?? 0
        let plan = CallStormPlan.burst(calls: calls, source: rig.source)
        let cpuBefore = (daemon: rig.daemon.cpuSeconds() ?? 0, bench: processCPUSeconds() ?? 0)
        let timeline = rig.options.timeline ? Task { await stormTimeline(rig, eventsBefore: eventsBefore) } : nil
        defer { timeline?.cancel() }
        let run = try await rig.server.stream(plan)

        // Read by the daemon: its counter, scraped until it has every event or stops moving.
        var accepted = 0.0
        var acceptedAt = monotonicNanoseconds()
        var unchangedSince = ContinuousClock.now
        while ContinuousClock.now - unchangedSince < .seconds(3) {
            guard let metrics = await rig.metrics() else { break }
            let read = metrics.total("amibridge_ami_events_total") - eventsBefore
            if read > accepted {
                accepted = read
                acceptedAt = monotonicNanoseconds()
                unchangedSince = .now
            }
            if accepted >= Double(run.events) { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let complete = await rig.waitForWebhooks(0..<calls)
        let cpu = (daemon: (rig.daemon.cpuSeconds() ?? 0) - cpuBefore.daemon, bench: (processCPUSeconds() ?? 0) - cpuBefore.bench)
        let after = await rig.metrics()
        let tally = rig.receiver.tally
        let snapshot = tally.snapshot
        let completeness = tally.completeness(0..<calls)
        let lastComplete = tally.completedAt(0..<calls).max() ?? 0
        let reconnects = (after?.total("amibridge_ami_reconnects_total") ?? 0) - (before?.total("amibridge_ami_reconnects_total") ?? 0)
        let disconnects = rig.server.clientCounts.disconnects - disconnectsBefore
        let bufferFull = rig.daemon.log.bufferFull - bufferFullBefore
        let droppedLogged = rig.daemon.log.droppedTotal - droppedBefore
        let dropSeries = after?.drops ?? []
        let unread = Int(max(0, Double(run.events) - accepted))
        let droppedAny = unread > 0 || droppedLogged > 0 || bufferFull > 0 || !dropSeries.isEmpty || reconnects > 0 || disconnects > 0

        let sendSeconds = seconds(run.startedAt, run.finishedAt)
        let acceptSeconds = seconds(run.startedAt, acceptedAt)
        let endToEnd = seconds(run.startedAt, lastComplete)
        let webhooks = calls * 3
        let receivedCount = ["call_answered", "user_event", "call_complete"].reduce(0) { $0 + snapshot.byEvent[$1, default: 0] }
        let dropText = droppedAny
            ? "DROPPED: \(grouped(droppedLogged))+ events dropped from the full event buffer (\(bufferFull) 'event buffer full' lines), \(grouped(unread)) written but never decoded, \(Int(reconnects)) AMI reconnects, \(disconnects) disconnects\(dropSeries.isEmpty ? "" : ", " + dropSeries.joined(separator: ", "))"
            : "no drop (\(after == nil ? "metrics unreadable" : "no drop/overflow series above 0"), no 'event buffer full', no reconnect)"
        let written = "\(grouped(calls)) calls, \(grouped(run.events)) events (\(String(format: "%.0f", Double(run.bytes) / 1e6)) MB) written in "
            + String(format: "%.2f", sendSeconds) + " s = \(grouped(Int(Double(run.events) / max(sendSeconds, 1e-9)))) events/s"
            + (run.eventsWithoutClient > 0 ? " (\(grouped(run.eventsWithoutClient)) more were due while the daemon was not logged in)" : "")
        let read = "decoded by the daemon's AMI client \(grouped(Int(accepted))) = \(grouped(Int(accepted / max(acceptSeconds, 1e-9)))) events/s"
        let received = "webhooks \(grouped(receivedCount))/\(grouped(webhooks)) (call_complete exactly once for \(grouped(completeness.callCompleteOnce)), "
            + "all three exactly once for \(grouped(completeness.exactlyOnce)) calls), duplicates \(snapshot.duplicateDeliveries), "
            + "re-emitted \(snapshot.reemitted), unexpected \(snapshot.unmatched)"
        let finished = complete
            ? "every call_complete in " + String(format: "%.2f", endToEnd) + " s = \(grouped(Int(Double(calls) / max(endToEnd, 1e-9)))) calls/s end to end"
            : "INCOMPLETE: \(grouped(tally.completedCount(0..<calls))) of \(grouped(calls)) call_complete after waiting"
        let cpuText = String(format: "CPU during the phase: daemon %.1f s, this benchmark (generator + receiver) %.1f s", cpu.daemon, cpu.bench)
        let line = "storm burst: \(written); \(read); \(dropText); \(received); \(finished); \(cpuText)"
        let json: [String: Any] = [
            "calls": calls, "events_written": run.events, "bytes_written": run.bytes, "write_seconds": sendSeconds,
            "events_without_client": run.eventsWithoutClient, "daemon_cpu_seconds": cpu.daemon, "bench_cpu_seconds": cpu.bench,
            "events_per_second_written": Double(run.events) / max(sendSeconds, 1e-9),
            "events_read_by_daemon": Int(accepted), "events_per_second_read": accepted / max(acceptSeconds, 1e-9),
            "events_unread": unread, "events_dropped_logged": droppedLogged, "event_buffer_full_lines": bufferFull, "ami_reconnects": Int(reconnects), "disconnects": disconnects,
            "drop_series": dropSeries, "dropped": droppedAny,
            "webhooks_expected": webhooks, "webhooks_received": receivedCount, "by_event": snapshot.byEvent,
            "calls_call_complete_once": completeness.callCompleteOnce, "calls_all_three_once": completeness.exactlyOnce,
            "duplicates": snapshot.duplicateDeliveries, "reemitted": snapshot.reemitted, "unexpected": snapshot.unmatched,
            "complete": complete, "end_to_end_seconds": complete ? endToEnd : NSNull(),
            "calls_per_second_end_to_end": complete ? Double(calls) / max(endToEnd, 1e-9) : NSNull(),
        ]
        return (line, json)
    }

    static func stormLatency(_ rig: StormRig, firstCall: Int) async throws -> (line: String, json: [String: Any]) {
        // After a burst the daemon may still be logging in again.
        try await rig.server.waitForClients(1, at: .reconciled, timeout: .seconds(60))
        let options = rig.options
        let plan = CallStormPlan.rate(options.rate, seconds: options.seconds, callSeconds: options.callSeconds, firstCall: firstCall, source: rig.source)
        let disconnectsBefore = rig.server.clientCounts.disconnects
        let bufferFullBefore = rig.daemon.log.bufferFull
        let run = try await rig.server.stream(plan)
        let calls = firstCall..<(firstCall + plan.calls)
        let complete = await rig.waitForWebhooks(calls)
        let arrivals = rig.receiver.tally.completedAt(calls)
        var latencies: [Double] = []
        for (index, written) in run.hangupWrittenAt.enumerated() where written != 0 && arrivals[index] != 0 {
            latencies.append(arrivals[index] >= written ? Double(arrivals[index] - written) / 1e6 : 0)
        }
        latencies.sort()
        let completeness = rig.receiver.tally.completeness(calls)
        let disconnects = rig.server.clientCounts.disconnects - disconnectsBefore
        let bufferFull = rig.daemon.log.bufferFull - bufferFullBefore
        let drops = disconnects + bufferFull > 0
            ? "; DROPPED: \(bufferFull) 'event buffer full' lines, \(disconnects) AMI disconnects, \(grouped(run.eventsWithoutClient)) events due while not logged in"
            : "; no drop"
        let p50 = percentile(latencies, 0.5)
        let p99 = percentile(latencies, 0.99)
        let maximum = latencies.last ?? 0
        let line = "storm latency: \(grouped(plan.calls)) calls at \(grouped(Int(options.rate)))/s for \(String(format: "%g", options.seconds)) s (\(grouped(run.events)) events, each call \(String(format: "%g", options.callSeconds)) s long): "
            + "final Hangup written -> call_complete received p50 \(String(format: "%.1f", p50)) ms, p99 \(String(format: "%.1f", p99)) ms, max \(String(format: "%.1f", maximum)) ms; "
            + "call_complete for \(grouped(latencies.count))/\(grouped(plan.calls)) calls, all three webhooks exactly once for \(grouped(completeness.exactlyOnce))"
            + drops + (complete ? "" : " (INCOMPLETE: stopped waiting)")
        let json: [String: Any] = [
            "calls": plan.calls, "calls_per_second": options.rate, "seconds": options.seconds, "call_seconds": options.callSeconds,
            "events_written": run.events, "p50_ms": p50, "p99_ms": p99, "max_ms": maximum,
            "calls_measured": latencies.count, "calls_all_three_once": completeness.exactlyOnce, "complete": complete,
            "event_buffer_full_lines": bufferFull, "disconnects": disconnects, "events_without_client": run.eventsWithoutClient, "dropped": disconnects + bufferFull > 0,
        ]
        return (line, json)
    }

    // MARK: Helpers

    static func seconds(_ from: UInt64, _ to: UInt64) -> Double {
        to > from ? Double(to - from) / 1e9 : 0
    }

    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    /// 1234567 as "1,234,567".
    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }

    static func jsonLine(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
