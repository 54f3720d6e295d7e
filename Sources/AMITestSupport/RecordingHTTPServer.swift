import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 server on 127.0.0.1, on a port the kernel picks, that records every request
/// and answers each one the same way (or never answers, to exercise timeouts).
public final class RecordingHTTPServer: Sendable {
    public struct RecordedRequest: Sendable {
        public var method: HTTPMethod
        public var uri: String
        public var headers: HTTPHeaders
        public var body: [UInt8]
        /// The client's port: equal across requests when the client reused its connection.
        public var clientPort: Int?
        /// When the whole request had arrived, before it was answered.
        public var receivedAt: ContinuousClock.Instant = .now
    }

    public enum Behaviour: Sendable {
        case respond(status: HTTPResponseStatus, headers: [(String, String)] = [], body: [UInt8] = [])
        case neverRespond
        /// Decided per request (the closure keeps its own count); `after` delays the answer.
        case script(@Sendable (RecordedRequest) -> (behaviour: Behaviour, after: TimeAmount))
    }

    public let port: Int
    /// Every request received, in order; finished by ``shutdown()``.
    public let requests: AsyncStream<RecordedRequest>
    private let continuation: AsyncStream<RecordedRequest>.Continuation
    private let channel: any Channel

    /// `port` 0 lets the kernel pick; a given port brings a stopped receiver back where it was.
    public static func start(_ behaviour: Behaviour, port: Int = 0) async throws -> RecordingHTTPServer {
        let (requests, continuation) = AsyncStream.makeStream(of: RecordedRequest.self)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        RecordingHandler(behaviour: behaviour, continuation: continuation)
                    )
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        return RecordingHTTPServer(channel: channel, requests: requests, continuation: continuation)
    }

    private init(channel: any Channel, requests: AsyncStream<RecordedRequest>, continuation: AsyncStream<RecordedRequest>.Continuation) {
        self.channel = channel
        self.port = channel.localAddress!.port!
        self.requests = requests
        self.continuation = continuation
    }

    /// Stops listening and ends ``requests``, so a test can count everything that arrived.
    public func shutdown() async throws {
        try await self.channel.close()
        self.continuation.finish()
    }

    /// All requests received so far; ends the server.
    public func shutdownAndCollectRequests() async throws -> [RecordedRequest] {
        try await self.shutdown()
        var all: [RecordedRequest] = []
        for await request in self.requests { all.append(request) }
        return all
    }
}

private final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let behaviour: RecordingHTTPServer.Behaviour
    private let continuation: AsyncStream<RecordingHTTPServer.RecordedRequest>.Continuation
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(behaviour: RecordingHTTPServer.Behaviour, continuation: AsyncStream<RecordingHTTPServer.RecordedRequest>.Continuation) {
        self.behaviour = behaviour
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = []
        case .body(let bytes):
            self.body += bytes.readableBytesView
        case .end:
            guard let head = self.head else { return }
            let request = RecordingHTTPServer.RecordedRequest(
                method: head.method, uri: head.uri, headers: head.headers, body: self.body, clientPort: context.remoteAddress?.port
            )
            // Recorded before answering: once the client has its response, the request is here.
            self.continuation.yield(request)
            var behaviour = self.behaviour
            var delay = TimeAmount.zero
            if case .script(let decide) = behaviour { (behaviour, delay) = decide(request) }
            guard case .respond(let status, let extraHeaders, let body) = behaviour else { return }
            var headers = HTTPHeaders(extraHeaders)
            headers.add(name: "Content-Length", value: String(body.count))
            let response = HTTPResponseHead(version: head.version, status: status, headers: headers)
            let answer = { [self] in
                context.write(self.wrapOutboundOut(.head(response)), promise: nil)
                context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            }
            if delay == .zero {
                answer()
            } else {
                let loopBound = NIOLoopBound(answer, eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: delay) { loopBound.value() }
            }
        }
    }
}
