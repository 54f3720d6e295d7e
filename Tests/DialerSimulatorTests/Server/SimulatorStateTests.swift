import AMIProtocol
import DialerSimulator
import NIOCore
import Testing

/// The simulator's decisions without a socket: driven by a clock the test moves.
@Suite struct SimulatorStateTests {
    @Test("one agent, calls arriving faster than it can take them: one call at a time, arrivals skipped, --calls honoured, finished once the last disposition is out")
    func oneAgentAtATime() throws {
        var configuration = SimulatorState.Configuration()
        configuration.traffic.agents = 1
        configuration.traffic.callsPerSecond = 20
        configuration.traffic.mix = OutcomeMix(weights: [.answered: 1])
        configuration.traffic.neverDisposedPercent = 0
        configuration.maximumCalls = 3
        configuration.writesRows = true
        let start = 1_795_000_000.0
        var state = SimulatorState(configuration: configuration, now: start)
        var text = ""
        var rows: [ViciDialRowWrite] = []
        var now = start
        while !state.isFinished, now < start + 600 {
            now += 0.05
            let output = state.advance(to: now)
            text += output.text
            rows += output.rows
        }
        #expect(state.isFinished)
        #expect(state.statistics.placed == 3)
        #expect(state.statistics.completed == 3)
        #expect(state.statistics.skippedNoAgent > 0)
        #expect(state.statistics.liveChannels == 0)
        // The last rows are the dispositions, after every call's last event.
        #expect(rows.filter { if case .dispose = $0 { true } else { false } }.count == 3)
        guard case .liveAgent(_, let status, _, _, _, _, _)? = rows.last else { Issue.record("last row: \(String(describing: rows.last))"); return }
        #expect(status == "READY")

        // The agent's calls never overlap: each starts after the previous one's last Hangup.
        var decoder = AMIFrameDecoder()
        var buffer = ByteBuffer(string: text)
        var spans: [String: (first: Double, last: Double)] = [:]
        while case .message(let message)? = try decoder.decode(buffer: &buffer) {
            guard let linkedid = message["Linkedid"], let time = message["Timestamp"].flatMap(Double.init) else { continue }
            let span = spans[linkedid] ?? (time, time)
            spans[linkedid] = (min(span.first, time), max(span.last, time))
        }
        let ordered = spans.values.sorted { $0.first < $1.first }
        #expect(ordered.count == 3)
        for (earlier, later) in zip(ordered, ordered.dropFirst()) { #expect(later.first > earlier.last) }
    }

    @Test("paused traffic places nothing until started")
    func paused() {
        var configuration = SimulatorState.Configuration()
        configuration.traffic.callsPerSecond = 50
        configuration.trafficStartsPaused = true
        var state = SimulatorState(configuration: configuration, now: 100)
        #expect(state.advance(to: 110).events == 0)
        #expect(!state.isFinished)
        state.startTraffic(at: 110)
        #expect(state.advance(to: 111).events > 0)
        #expect(state.statistics.placed > 0)
    }
}
