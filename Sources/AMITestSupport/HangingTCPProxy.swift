import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP proxy on 127.0.0.1 in front of a real server, which a test can make hang: the server then
/// looks, to the client under test, like one that still accepts connections but never answers
/// (a frozen process, a full disk, a lock held forever), while it keeps serving other tests.
///
/// Flowing, bytes pass both ways untouched. Hanging, every connection stays open and nothing
/// passes in either direction: what arrives is held back, a connection closed at either end stays
/// open at the other, and new connections are accepted (and connected to the server) but get no
/// answer. Flowing again, what was held back passes in order, as from a server that resumes.
public final class HangingTCPProxy: Sendable {
    /// The port to connect to instead of the server's.
    public let port: Int
    private let valve: Valve
    private let counts: NIOLockedValueBox<(accepted: Int, open: Int)>

    private init(port: Int, valve: Valve) {
        self.port = port
        self.valve = valve
        counts = NIOLockedValueBox((0, 0))
    }

    /// Stops every byte, both ways, on every connection, old and new.
    public func hang() { valve.close() }

    /// Lets bytes pass again, those held back first.
    public func flow() { valve.open() }

    public var isHanging: Bool { !valve.isOpen }

    /// Connections accepted so far, and those still open.
    public var connectionCounts: (accepted: Int, open: Int) { counts.withLockedValue { $0 } }

    /// Reads (or connection ends) held back right now, each waiting for the proxy to flow: 1 or
    /// more once a client's query is stuck here.
    public var heldBackCount: Int { valve.waiterCount }

    /// Returns once at least `count` reads are held back (see ``heldBackCount``): the client under
    /// test has sent what now hangs. Throws ``DeadlineExceeded`` after `limit`.
    public func waitUntilHoldingBack(_ count: Int = 1, within limit: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + limit
        while heldBackCount < count {
            guard ContinuousClock.now < deadline else { throw DeadlineExceeded(limit: limit) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Runs a proxy to `host:targetPort` for the duration of `body`, flowing at first.
    public static func withProxy<Result: Sendable>(
        to host: String,
        port targetPort: Int,
        _ body: @Sendable (HangingTCPProxy) async throws -> Result
    ) async throws -> Result {
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let proxy = HangingTCPProxy(port: serverChannel.channel.localAddress?.port ?? 0, valve: Valve())
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withThrowingDiscardingTaskGroup { connections in
                    try await serverChannel.executeThenClose { inbound in
                        for try await client in inbound {
                            proxy.counts.withLockedValue { $0.accepted += 1; $0.open += 1 }
                            connections.addTask {
                                defer { proxy.counts.withLockedValue { $0.open -= 1 } }
                                try? await proxy.relay(client, to: host, port: targetPort)
                            }
                        }
                    }
                }
            }
            defer {
                // Let nothing wait on a closed valve while the relays are torn down.
                proxy.valve.open()
                group.cancelAll()
            }
            let result = try await body(proxy)
            try? await serverChannel.channel.close()
            return result
        }
    }

    /// Connects `client` to the server (even while hanging, as a frozen server's kernel still
    /// accepts) and passes bytes both ways through the valve until either side is done.
    private func relay(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, to host: String, port: Int) async throws {
        try await client.executeThenClose { fromClient, toClient in
            let server = try await ClientBootstrap(group: client.channel.eventLoop)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            try await server.executeThenClose { fromServer, toServer in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.pass(fromClient, to: toServer) }
                    group.addTask { try await self.pass(fromServer, to: toClient) }
                    // One side has ended (and that end has passed the valve): close both.
                    defer { group.cancelAll() }
                    _ = try await group.next()
                }
            }
        }
    }

    private func pass(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        do {
            for try await bytes in inbound {
                try await valve.waitUntilOpen()
                try await outbound.write(bytes)
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // A reset is an end like a close: it too waits for the valve.
        }
        try await valve.waitUntilOpen()
    }

    /// Open or closed, with the tasks waiting for it to open.
    final class Valve: Sendable {
        private struct State {
            var isOpen = true
            var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
            var nextWaiter: UInt64 = 0
        }

        private let state = NIOLockedValueBox(State())

        var isOpen: Bool { state.withLockedValue { $0.isOpen } }

        var waiterCount: Int { state.withLockedValue { $0.waiters.count } }

        func close() { state.withLockedValue { $0.isOpen = false } }

        func open() {
            let waiters = state.withLockedValue { state in
                state.isOpen = true
                defer { state.waiters.removeAll() }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.resume() }
        }

        /// Returns when the valve is open; throws `CancellationError` when the task is cancelled first.
        func waitUntilOpen() async throws {
            let id = state.withLockedValue { state -> UInt64? in
                if state.isOpen { return nil }
                state.nextWaiter += 1
                return state.nextWaiter
            }
            guard let id else { return }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let outcome = state.withLockedValue { state -> Bool? in
                        if Task.isCancelled { return false }
                        if state.isOpen { return true }
                        state.waiters[id] = continuation
                        return nil
                    }
                    switch outcome {
                    case true?: continuation.resume()
                    case false?: continuation.resume(throwing: CancellationError())
                    case nil: break
                    }
                }
            } onCancel: {
                state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
            }
        }
    }
}
