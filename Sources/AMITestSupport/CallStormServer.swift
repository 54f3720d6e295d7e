import AMIProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A fake Asterisk on 127.0.0.1 that streams a storm of calls (``CallStormSource`` stamped by a
/// ``CallStormPlan``) to every logged-in client, for end-to-end benchmarks of the bridge and for
/// comparing other AMI clients on the same bytes.
///
/// Every logged-in client gets the same stream from the moment it logs in, as every manager
/// session of one Asterisk sees the same events; a client that is away misses what was sent
/// meanwhile. The stream is written in large chunks with a bounded number in flight, so a slow
/// client slows the stream (TCP backpressure) instead of growing this process's memory.
public final class CallStormServer: Sendable {
    public let port: Int
    public let source: CallStormSource
    private let serverChannel: any Channel
    let clients: Clients

    private init(port: Int, source: CallStormSource, serverChannel: any Channel, clients: Clients) {
        self.port = port
        self.source = source
        self.serverChannel = serverChannel
        self.clients = clients
    }

    /// Listens on `host:port` (port 0: a free one, see ``port``).
    public static func start(source: CallStormSource, host: String = "127.0.0.1", port: Int = 0) async throws -> CallStormServer {
        let clients = Clients()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // A rate-paced chunk must leave at once, not wait for the previous one's ACK.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(AMIFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(CallStormSessionHandler(clients: clients))
                }
            }
            .bind(host: host, port: port)
            .get()
        return CallStormServer(port: channel.localAddress?.port ?? port, source: source, serverChannel: channel, clients: clients)
    }

    /// Stops listening and closes every client connection.
    public func close() async {
        try? await serverChannel.close()
        for channel in clients.all() { try? await channel.close() }
    }

    /// Clients connected now, how many of them are logged in, and how many connections have ended.
    public var clientCounts: (connected: Int, loggedIn: Int, disconnects: Int) {
        clients.counts()
    }

    /// Returns once `count` clients are at `stage` or further; throws ``DeadlineExceeded`` after `timeout`.
    public func waitForClients(_ count: Int, at stage: ClientStage, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while clients.count(atLeast: stage) < count {
            guard ContinuousClock.now < deadline else { throw DeadlineExceeded(limit: timeout) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Streams `plan` to every logged-in client and returns when all of it has been handed to
    /// their sockets (or dropped for clients that left).
    ///
    /// - Parameter chunkBytes: the most written at once when the stream has no rate or is behind
    ///   it; a paced stream on time writes each slot when it is due.
    public func stream(_ plan: CallStormPlan, chunkBytes: Int = 256 * 1024, chunksInFlight: Int = 4) async throws -> CallStormRun {
        let segments = source.segmentCount
        let totalSlots = plan.slotCount(segments: segments)
        let log = HangupLog(calls: plan.calls)
        let start = monotonicNanoseconds()
        var slot = 0
        var events = 0
        var bytes = 0
        var missed = 0
        var inFlight: [EventLoopFuture<Void>] = []
        let allocator = ByteBufferAllocator()
        while slot < totalSlots {
            try Task.checkCancellation()
            var lastSlot = totalSlots
            if plan.callsPerSecond != nil {
                let due = Int(plan.dueTime(ofSlot: slot) * 1e9)
                let elapsed = Int(monotonicNanoseconds() - start)
                if due > elapsed {
                    try await Task.sleep(for: .nanoseconds(due - elapsed))
                    continue
                }
                let rate = plan.callsPerSecond!
                lastSlot = min(totalSlots, Int(Double(elapsed) / 1e9 * rate) + 1)
            }
            var chunk = allocator.buffer(capacity: chunkBytes + 2 * source.bytesPerCall)
            var chunkEvents = 0
            var hangups: [Int] = []
            while slot < lastSlot, chunk.readableBytes < chunkBytes {
                for (segment, call) in plan.contents(ofSlot: slot, segments: segments) {
                    source.write(segment: segment, ofCall: call, into: &chunk)
                    chunkEvents += source.events(inSegment: segment)
                    if segment == source.finalHangupSegment { hangups.append(call - plan.firstCall) }
                }
                slot += 1
            }
            let channels = clients.streaming()
            guard !channels.isEmpty else {
                missed += chunkEvents
                continue
            }
            events += chunkEvents
            bytes += chunk.readableBytes
            for channel in channels {
                let written = channel.eventLoop.makePromise(of: Void.self)
                channel.writeAndFlush(chunk, promise: written)
                written.futureResult.whenSuccess { [hangups] in log.written(hangups, at: monotonicNanoseconds()) }
                inFlight.append(written.futureResult)
            }
            // Backpressure: at most `chunksInFlight` chunks per client are queued in this process.
            while inFlight.count > chunksInFlight * channels.count {
                try? await inFlight.removeFirst().get()
            }
        }
        for written in inFlight { try? await written.get() }
        let (hangupTimes, lastWrite) = log.times()
        return CallStormRun(plan: plan, events: events, bytes: bytes, eventsWithoutClient: missed, startedAt: start, finishedAt: max(lastWrite, start), hangupWrittenAt: hangupTimes)
    }
}

/// What one ``CallStormServer/stream(_:chunkBytes:chunksInFlight:)`` wrote.
public struct CallStormRun: Sendable {
    public var plan: CallStormPlan
    /// Events and bytes handed to at least one client.
    public var events: Int
    public var bytes: Int
    /// Events of the plan that went to nobody: no client was logged in when they were due.
    public var eventsWithoutClient: Int
    /// ``monotonicNanoseconds()`` when the stream started.
    public var startedAt: UInt64
    /// When the last chunk had been handed to the sockets.
    public var finishedAt: UInt64
    /// For each call of the plan (index = call number - plan.firstCall): when the chunk holding its
    /// final `Hangup` had been handed to every client's socket (the latest of them), 0 if never.
    public var hangupWrittenAt: [UInt64]
}

extension CallStormServer {
    /// The connected clients and the stage each has reached.
    final class Clients: Sendable {
        private struct State {
            var stages: [ObjectIdentifier: (channel: any Channel, stage: ClientStage)] = [:]
            var disconnects = 0
        }

        private let state = NIOLockedValueBox(State())

        func connected(_ channel: any Channel) {
            state.withLockedValue { $0.stages[ObjectIdentifier(channel)] = (channel, .connected) }
        }

        func reached(_ stage: ClientStage, _ channel: any Channel) {
            state.withLockedValue { state in
                let key = ObjectIdentifier(channel)
                if let current = state.stages[key], current.stage < stage { state.stages[key] = (channel, stage) }
            }
        }

        func disconnected(_ channel: any Channel) {
            state.withLockedValue { state in
                if state.stages.removeValue(forKey: ObjectIdentifier(channel)) != nil { state.disconnects += 1 }
            }
        }

        func streaming() -> [any Channel] {
            state.withLockedValue { $0.stages.values.filter { $0.stage >= .loggedIn }.map(\.channel) }
        }

        func all() -> [any Channel] {
            state.withLockedValue { $0.stages.values.map(\.channel) }
        }

        func count(atLeast stage: ClientStage) -> Int {
            state.withLockedValue { $0.stages.values.filter { $0.stage >= stage }.count }
        }

        func counts() -> (connected: Int, loggedIn: Int, disconnects: Int) {
            state.withLockedValue { state in
                (state.stages.count, state.stages.values.filter { $0.stage >= .loggedIn }.count, state.disconnects)
            }
        }
    }

    /// When each call's final `Hangup` reached the sockets; written from the event loops.
    final class HangupLog: Sendable {
        private let state: NIOLockedValueBox<(times: [UInt64], lastWrite: UInt64)>

        init(calls: Int) { state = NIOLockedValueBox(([UInt64](repeating: 0, count: calls), 0)) }

        /// A chunk reached a client's socket at `time`, with the final `Hangup` of `calls`.
        func written(_ calls: [Int], at time: UInt64) {
            state.withLockedValue { state in
                state.lastWrite = max(state.lastWrite, time)
                for call in calls { state.times[call] = max(state.times[call], time) }
            }
        }

        func times() -> (times: [UInt64], lastWrite: UInt64) { state.withLockedValue { $0 } }
    }
}
