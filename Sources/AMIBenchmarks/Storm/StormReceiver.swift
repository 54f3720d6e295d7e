import AMITestSupport
import CRMSink
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The CRM of the storm benchmark: answers `200` to every request at once and keeps the tally
/// (``StormTally``) of what arrived, by event name, by call and by event id.
final class StormReceiver: Sendable {
    let port: Int
    let tally: StormTally
    private let channel: any Channel

    private init(channel: any Channel, tally: StormTally) {
        self.channel = channel
        self.port = channel.localAddress!.port!
        self.tally = tally
    }

    /// - Parameter calls: how many call numbers (from 0) to keep a per-call tally for.
    static func start(calls: Int) async throws -> StormReceiver {
        let tally = StormTally(calls: calls)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(StormReceiverHandler(tally: tally))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return StormReceiver(channel: channel, tally: tally)
    }

    func stop() async { try? await channel.close() }
}

/// One HTTP connection from the bridge's dispatcher (libcurl keeps it alive between requests).
private final class StormReceiverHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let tally: StormTally
    private var event = ""
    private var delivery = ""
    private var body = ByteBuffer()

    init(tally: StormTally) { self.tally = tally }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            event = head.headers["X-AMIBridge-Event"].first ?? ""
            delivery = head.headers["X-AMIBridge-Delivery"].first ?? ""
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            let now = monotonicNanoseconds()
            let call = body.withUnsafeReadableBytes { StormTally.call(inBody: $0) }
            tally.record(event: event, eventID: UUID(lowercaseText: delivery), call: call, at: now)
            let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "0"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
