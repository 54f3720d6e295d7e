import AMITestSupport
import Foundation

/// `amibridge-bench storm feed [--calls N] [--clients K]`: the storm's burst with no daemon, for
/// another AMI client to read (scripts/bench-storm.sh points panoramisk at it): the same bytes the
/// burst phase sends the bridge. Prints its port and the number of events to expect, waits for
/// `clients` logins, streams, then waits for the clients to leave.
extension Benchmarks {
    static func stormFeed(options: StormOptions) async throws {
        StormWatchdog.shared.arm(seconds: options.timeout ?? 900)
        let source = try CallStormSource()
        let server = try await CallStormServer.start(source: source)
        let plan = CallStormPlan.burst(calls: options.burstCalls, source: source)
        // Unbuffered: a script waits for this line.
        FileHandle.standardOutput.write(Data("storm feed: 127.0.0.1:\(server.port) calls \(plan.calls) events \(plan.calls * source.eventsPerCall)\n".utf8))
        try await server.waitForClients(options.clients, at: .loggedIn, timeout: .seconds(120))
        let run = try await server.stream(plan)
        let elapsed = seconds(run.startedAt, run.finishedAt)
        FileHandle.standardOutput.write(Data("storm feed: wrote \(run.events) events (\(run.bytes) bytes) in \(String(format: "%.2f", elapsed)) s = \(Int(Double(run.events) / max(elapsed, 1e-9))) events/s\n".utf8))
        while server.clientCounts.connected > 0 { try await Task.sleep(for: .milliseconds(50)) }
        await server.close()
    }
}
