import AMIProtocol
import AMITestSupport
import EventMapper
import Foundation
import NIOCore
import NIOPosix

/// `ingest [repetitions]`: the AMI ingest path end to end on this machine's cores. A fake Asterisk
/// on 127.0.0.1 (its own event loop thread) serves the recorded Asterisk 20 burst (20 interleaved click-to-calls, 1,941
/// events) `repetitions` times (default 500), each time with fresh uniqueids and linkedids, as
/// fast as TCP takes it; the real ``AMIClient`` reads it into an ``AMIEventStream`` and one task
/// applies it to a ``CallTracker`` through ``AMIEventStream/nextBatch(limit:)``. Printed: events/s
/// from the first event to the last, events dropped (must be 0), the times the client paused
/// reading, and the calls completed (must be 20 per repetition).
enum IngestBenchmark {
    static func run(repetitions: Int) async throws {
        let template = try burstEvents()
        let eventsPerRepetition = template.events
        let totalEvents = eventsPerRepetition * repetitions
        let expectedCalls = 20 * repetitions

        // The fake Asterisk on its own event loop thread: it shares the cores, not the client's loop.
        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let serverChannel = try await ServerBootstrap(group: serverGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(AMIFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FloodingAsterisk(template: template, repetitions: repetitions))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        do {
            let port = serverChannel.localAddress?.port ?? 0
            let events = AMIEventStream(capacity: 100_000)
            let client = AMIClient(
                configuration: .init(
                    name: "bench", host: "127.0.0.1", port: port,
                    session: .init(username: "bridge", secret: "s3cret-AMI", loginTimeout: .seconds(60), keepaliveInterval: .seconds(60), pingTimeout: .seconds(60))
                ),
                events: events
            )
            let result = try await withThrowingTaskGroup(of: Tally?.self) { group in
                group.addTask {
                    try await client.run()
                    return nil
                }
                group.addTask { await consume(events, totalEvents: totalEvents) }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let tally = result { return tally }
                }
                return Tally()
            }
            let seconds = result.seconds
            print("ingest: \(grouped(result.events)) events (\(repetitions) × \(eventsPerRepetition)) over TCP 127.0.0.1 through AMIClient, AMIEventStream.nextBatch and CallTracker")
            print(String(format: "ingest: %.0f events/s end to end, %.2f s; ", Double(result.events) / seconds, seconds)
                + "dropped \(events.droppedEvents), read pauses \(events.pauseCount), reconnects \(client.reconnectCount), "
                + "calls completed \(grouped(result.completedCalls)) of \(grouped(expectedCalls)), batches \(grouped(result.batches)) (mean \(result.events / max(result.batches, 1)) events)")
        }
        try? await serverChannel.close()
        try await serverGroup.shutdownGracefully()
    }

    /// Greets, accepts the login and the `Events` setup, then writes the repetitions as fast as
    /// the socket takes them (each one made when there is room for it), answering whatever else
    /// the client asks (`Ping`) in between.
    final class FloodingAsterisk: ChannelInboundHandler {
        typealias InboundIn = AMIFrame
        typealias OutboundOut = ByteBuffer

        private let template: [UInt8]
        private let epochOffsets: [Int]
        private let repetitions: Int
        private var written = 0
        private var flooding = false

        init(template: (bytes: [UInt8], events: Int, epochOffsets: [Int]), repetitions: Int) {
            self.template = template.bytes
            self.epochOffsets = template.epochOffsets
            self.repetitions = repetitions
        }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "Asterisk Call Manager/9.0.0\r\n")), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .message(let action) = unwrapInboundIn(data) else { return }
            let id = action.actionID.map { "ActionID: \($0)\r\n" } ?? ""
            switch action["Action"]?.lowercased() {
            case "login":
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "Response: Success\r\n\(id)Message: Authentication accepted\r\n\r\n")), promise: nil)
            case "events":
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "Response: Success\r\n\(id)Events: On\r\n\r\n")), promise: nil)
                flooding = true
                writeWhileWritable(context: context)
            case "ping":
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "Response: Success\r\n\(id)Ping: Pong\r\n\r\n")), promise: nil)
            default:
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "Response: Success\r\n\(id)\r\n")), promise: nil)
            }
        }

        func channelWritabilityChanged(context: ChannelHandlerContext) {
            if flooding { writeWhileWritable(context: context) }
            context.fireChannelWritabilityChanged()
        }

        private func writeWhileWritable(context: ChannelHandlerContext) {
            while context.channel.isWritable, written < repetitions {
                // Same length as the recording's `1795615948`: each repetition is new calls.
                let epoch = Array(String(2_000_000_000 + written).utf8)
                var buffer = context.channel.allocator.buffer(capacity: template.count)
                buffer.writeBytes(template)
                for offset in epochOffsets { buffer.setBytes(epoch, at: offset) }
                context.write(wrapOutboundOut(buffer), promise: nil)
                written += 1
            }
            context.flush()
        }
    }

    struct Tally: Sendable {
        var events = 0
        var completedCalls = 0
        var batches = 0
        var seconds = 0.0
    }

    /// Applies events until `totalEvents` have arrived; times from the first event to the last.
    static func consume(_ events: AMIEventStream, totalEvents: Int) async -> Tally {
        var tracker = CallTracker(configuration: .init(server: "bench"))
        var tally = Tally()
        var start: ContinuousClock.Instant?
        while tally.events < totalEvents, let batch = await events.nextBatch(limit: 4096) {
            tally.batches += 1
            for case .event(let event) in batch {
                if start == nil { start = .now }
                tally.events += 1
                for update in tracker.receive(event.message, at: event.receivedAt) {
                    if case .completed = update { tally.completedCalls += 1 }
                }
            }
        }
        let elapsed = start.map { ContinuousClock.now - $0 } ?? .zero
        tally.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return tally
    }

    /// The burst recording's events (no banner, no responses) as AMI text, with where each
    /// `1795615948.` uniqueid epoch starts.
    static func burstEvents() throws -> (bytes: [UInt8], events: Int, epochOffsets: [Int]) {
        var decoder = AMIFrameDecoder()
        var buffer = ByteBuffer(bytes: try AMICapture.load("asterisk-20", "burst-20-calls").receivedBytes)
        var text = ""
        var events = 0
        while let frame = try decoder.decode(buffer: &buffer) {
            guard case .message(let message) = frame, message.isEvent else { continue }
            text += message.wireText
            events += 1
        }
        let bytes = Array(text.utf8)
        let epoch = Array("1795615948.".utf8)
        var offsets: [Int] = []
        var index = 0
        while index + epoch.count <= bytes.count {
            if bytes[index] == epoch[0], bytes[index..<(index + epoch.count)].elementsEqual(epoch) {
                offsets.append(index)
                index += epoch.count
            } else {
                index += 1
            }
        }
        return (bytes, events, offsets)
    }

    static func grouped(_ number: Int) -> String {
        let digits = String(number)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result += "," }
            result.append(digit)
        }
        return result
    }
}
