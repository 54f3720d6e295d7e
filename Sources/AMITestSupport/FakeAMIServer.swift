import AMIProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// A TCP server on 127.0.0.1 that speaks AMI the way a scripted Asterisk would. Each accepted
/// connection runs `behavior` with a ``FakeAMISession``; the connection closes when it returns.
///
/// Fakes stand in only for Asterisk, which cannot run here: the client under test uses real
/// sockets, its real decoder and its real reconnect logic against it.
public final class FakeAMIServer: Sendable {
    public typealias Behavior = @Sendable (inout FakeAMISession) async throws -> Void

    public let port: Int
    private let recorder: Recorder

    private init(port: Int, recorder: Recorder) {
        self.port = port
        self.recorder = recorder
    }

    /// Every action each connection received, in order (index 0 is the first connection).
    public var receivedActions: [[AMIMessage]] { recorder.state.withLockedValue { $0.actions } }
    /// Raw bytes each connection received, to prove what did (not) reach the socket.
    public var receivedByteCounts: [Int] { recorder.state.withLockedValue { $0.byteCounts } }
    public var connectionCount: Int { recorder.state.withLockedValue { $0.actions.count } }

    /// Runs a server for the duration of `body`. `port` 0 picks a free port; a fixed port lets a
    /// test put a "restarted Asterisk" on the port the client knows. `recordingActions: false`
    /// keeps no ``receivedActions`` (a server that runs for hours, such as `amibridge simulate`).
    public static func withServer<Result: Sendable>(
        port: Int = 0,
        recordingActions: Bool = true,
        behavior: @escaping Behavior,
        _ body: @Sendable (FakeAMIServer) async throws -> Result
    ) async throws -> Result {
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // One byte per write must reach the client as one segment, not wait for Nagle.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Client actions are framed with the product's own decoder; generous limits
                    // so a test can see what a misbehaving client would send.
                    let tally = ByteTally()
                    try channel.pipeline.syncOperations.addHandler(ByteCounter(tally: tally))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(AMIFrameDecoder()))
                    // Half-closure, so a session can end with a FIN and still read (see closeAfterClientHasRead).
                    let configuration = NIOAsyncChannel<AMIFrame, ByteBuffer>.Configuration(isOutboundHalfClosureEnabled: true)
                    return (try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: configuration), tally)
                }
            }
        let server = FakeAMIServer(port: serverChannel.channel.localAddress?.port ?? port, recorder: Recorder(keepsActions: recordingActions))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withThrowingDiscardingTaskGroup { connections in
                    try await serverChannel.executeThenClose { inbound in
                        for try await (connection, tally) in inbound {
                            let index = server.recorder.newConnection()
                            connections.addTask {
                                try? await connection.executeThenClose { frames, outbound in
                                    var session = FakeAMISession(
                                        frames: frames.makeAsyncIterator(), outbound: outbound,
                                        tally: tally, recorder: server.recorder, index: index
                                    )
                                    try await behavior(&session)
                                }
                            }
                        }
                    }
                }
            }
            defer { group.cancelAll() }
            let result = try await body(server)
            try? await serverChannel.channel.close()
            return result
        }
    }

    final class Recorder: Sendable {
        struct State {
            var actions: [[AMIMessage]] = []
            var byteCounts: [Int] = []
        }

        let state = NIOLockedValueBox(State())
        let keepsActions: Bool

        init(keepsActions: Bool = true) { self.keepsActions = keepsActions }

        func newConnection() -> Int {
            state.withLockedValue { state in
                state.actions.append([])
                state.byteCounts.append(0)
                return state.actions.count - 1
            }
        }

        func record(_ action: AMIMessage, connection: Int) {
            guard keepsActions else { return }
            state.withLockedValue { $0.actions[connection].append(action) }
        }
    }
}

/// Counts the bytes a fake server receives before they are framed.
final class ByteTally: Sendable {
    let count = Atomic<Int>(0)
}

private final class ByteCounter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let tally: ByteTally

    init(tally: ByteTally) { self.tally = tally }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        tally.count.add(unwrapInboundIn(data).readableBytes, ordering: .relaxed)
        context.fireChannelRead(data)
    }
}

/// One accepted connection of a ``FakeAMIServer``.
public struct FakeAMISession {
    var frames: NIOAsyncChannelInboundStream<AMIFrame>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let tally: ByteTally
    let recorder: FakeAMIServer.Recorder
    /// Which connection this is (0 for the first one the server accepted).
    public let index: Int

    /// The next action the client sent, or nil when the client closed the connection.
    public mutating func nextAction() async throws -> AMIMessage? {
        while let frame = try await frames.next() {
            syncByteCount()
            if case .message(let message) = frame {
                recorder.record(message, connection: index)
                return message
            }
        }
        syncByteCount()
        return nil
    }

    private func syncByteCount() {
        let count = tally.count.load(ordering: .relaxed)
        recorder.state.withLockedValue { $0.byteCounts[index] = count }
    }

    /// Writes text as one write, or one byte per write (each flushed on its own) to exercise
    /// every possible split of the stream.
    public func write(_ text: String, bytePerWrite: Bool = false) async throws {
        try await write(Array(text.utf8), bytePerWrite: bytePerWrite)
    }

    /// The connection's write side, for a server that also writes from another task while this
    /// session reads actions (the simulator's event feed, shared by every logged-in client).
    public var outboundWriter: NIOAsyncChannelOutboundWriter<ByteBuffer> { outbound }

    public func write(_ bytes: [UInt8], bytePerWrite: Bool = false) async throws {
        if bytePerWrite {
            for byte in bytes {
                try await outbound.write(ByteBuffer(bytes: [byte]))
            }
        } else {
            try await outbound.write(ByteBuffer(bytes: bytes))
        }
    }

    /// Ends the connection as a server that has said everything: a FIN, then whatever the client
    /// still sends is read and dropped until it closes too. Closing with the client's bytes unread
    /// would send a RST, and the client's kernel may then drop recorded bytes it had not read yet.
    public mutating func closeAfterClientHasRead() async throws {
        outbound.finish()
        while try await frames.next() != nil {}
    }

    /// Answers an action the way Asterisk 20 does, for actions a script does not cover.
    /// Returns false when the session should end (after `Logoff`).
    public func answerGenerically(_ action: AMIMessage) async throws -> Bool {
        let id = action.actionID.map { "ActionID: \($0)\r\n" } ?? ""
        switch action["Action"]?.lowercased() {
        case "ping":
            try await write("Response: Success\r\n\(id)Ping: Pong\r\nTimestamp: 1795615869.550938\r\n\r\n")
        case "events":
            let on = action["EventMask"]?.lowercased() == "off" ? "Off" : "On"
            try await write("Response: Success\r\n\(id)Events: \(on)\r\n\r\n")
        case "filter":
            try await write("Response: Success\r\n\(id)Message: Success\r\n\r\n")
        case "logoff":
            try await write("Response: Goodbye\r\n\(id)Message: Thanks for all the fish.\r\n\r\n")
            return false
        case "coreshowchannels":
            try await write("Response: Success\r\n\(id)EventList: start\r\nMessage: Channels will follow\r\n\r\n")
            try await write("Event: CoreShowChannelsComplete\r\n\(id)EventList: Complete\r\nListItems: 0\r\n\r\n")
        case "login":
            try await write("Response: Success\r\n\(id)Message: Authentication accepted\r\n\r\n")
        default:
            let name = action["Action"] ?? ""
            try await write("Response: Error\r\n\(id)Message: Invalid/unknown command: \(name). Use Action: ListCommands to show available commands.\r\n\r\n")
        }
        return true
    }
}
