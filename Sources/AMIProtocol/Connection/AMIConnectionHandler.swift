import Logging
import NIOCore

/// An action on its way to the connection: already validated and encoded, so nothing unsafe can
/// reach the socket.
struct AMIRequest: Sendable {
    var action: AMIAction
    var actionID: String
    var timeout: Duration
    var promise: EventLoopPromise<AMIResponse>
}

/// Runs ``AMIConnectionStateMachine`` on a channel: cuts the bytes read into frames, turns frames,
/// timers and closes into inputs, and performs the actions it returns in one switch.
///
/// The handler decodes itself rather than behind NIO's `ByteToMessageHandler`: at a busy dialer's
/// rate, boxing every frame into `NIOAny` and casting it back cost more than a tenth of the
/// socket thread (see the README's ingest benchmark). Like that handler, it keeps the bytes of a
/// message cut by a read until the rest arrives, and stops decoding after a malformed frame.
///
/// Backpressure: when the event sink answers ``AMIEventStream/Demand/pause``, the handler holds
/// back the channel's next `read()` (the socket is not read, so TCP holds the sender) until a
/// ``ResumeReading`` event arrives. Frames already read are still delivered.
final class AMIConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = AMIRequest
    typealias OutboundOut = ByteBuffer

    /// Called on the event loop for every event with the time its bytes were read; `.pause`
    /// stops reading until ``ResumeReading``.
    typealias EventSink = (AMIMessage, Double) -> AMIEventStream.Demand
    /// Called on the event loop at login, before any event that follows it is delivered.
    typealias LoginSink = (String) -> Void
    /// Called on the event loop when reading stops because the event consumer is behind.
    typealias PauseSink = () -> Void
    /// Called on the event loop when a socket read has been delivered (to wake the consumer once).
    typealias ReadCompleteSink = () -> Void
    /// Asked on a resume: true when the consumer's buffer filled up again since (a stale resume).
    typealias StillPausedSink = () -> Bool

    private var stateMachine: AMIConnectionStateMachine
    private var decoder: AMIFrameDecoder
    /// Bytes read but not yet decoded (the start of a message the next read completes).
    private var unread: ByteBuffer?
    /// An emptied `unread`, kept so the next one needs no allocation.
    private var spareBuffer: ByteBuffer?
    /// Set after a malformed frame: the connection is closing and nothing more is decoded.
    private var decodingFailed = false
    private let logger: Logger
    private let eventSink: EventSink
    private let loginSink: LoginSink
    private let pauseSink: PauseSink
    private let readCompleteSink: ReadCompleteSink
    private let stillPausedSink: StillPausedSink
    /// Seconds since 1970, read once per socket read (every event of one read arrived together).
    private let clock: () -> Double
    private var readTime: Double?
    private var readingPaused = false
    /// The channel asked for a read while paused; issued on resume.
    private var readPending = false
    private var context: ChannelHandlerContext?
    private var timers: [AMIConnectionStateMachine.TimerID: Scheduled<Void>] = [:]
    private var pending: [String: EventLoopPromise<AMIResponse>] = [:]

    /// Succeeds with the banner once logged in; fails with the reason if the connection ends first.
    let loggedIn: EventLoopPromise<String>
    /// Succeeds with the reason once the connection is gone.
    let closed: EventLoopPromise<AMIError>

    init(
        configuration: AMIConnectionStateMachine.Configuration,
        limits: AMIFrameDecoder.Limits = .init(),
        loggedIn: EventLoopPromise<String>,
        closed: EventLoopPromise<AMIError>,
        logger: Logger,
        clock: @escaping () -> Double,
        loginSink: @escaping LoginSink,
        pauseSink: @escaping PauseSink = {},
        readCompleteSink: @escaping ReadCompleteSink = {},
        stillPausedSink: @escaping StillPausedSink = { false },
        eventSink: @escaping EventSink
    ) {
        self.stillPausedSink = stillPausedSink
        self.loginSink = loginSink
        self.pauseSink = pauseSink
        self.readCompleteSink = readCompleteSink
        self.stateMachine = AMIConnectionStateMachine(configuration: configuration)
        self.decoder = AMIFrameDecoder(limits: limits)
        self.logger = logger
        self.clock = clock
        self.eventSink = eventSink
        self.loggedIn = loggedIn
        self.closed = closed
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            run(stateMachine.connected(), context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // A channel that never became active gets no channelInactive; the promises must still
        // complete (completing twice is a no-op).
        let reason = AMIError(.connectionClosed, "the connection ended")
        loggedIn.fail(reason)
        closed.succeed(reason)
        for (_, promise) in pending { promise.fail(reason) }
        pending.removeAll()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        run(stateMachine.connected(), context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decodingFailed else { return }
        var incoming = unwrapInboundIn(data)
        // Buffers are moved out of the handler while decoding: the state machine's actions may
        // close the channel, which runs `channelInactive` on this handler before they return.
        if var pending = unread.take() {
            guard completeUnreadMessage(&pending, with: &incoming, context: context) else {
                if !decodingFailed, pending.readableBytes > 0 {
                    pending.discardReadBytes()
                    unread = pending
                }
                return
            }
            pending.clear()
            spareBuffer = pending
        }
        decodeFrames(from: &incoming, context: context)
        guard !decodingFailed, incoming.readableBytes > 0 else { return }
        // The start of a message the next read completes: copied out (a few hundred bytes), so
        // the read's buffer is free for NIO to read into again.
        var leftover = spareBuffer.take() ?? context.channel.allocator.buffer(capacity: incoming.readableBytes)
        leftover.writeBuffer(&incoming)
        unread = leftover
    }

    /// Finishes the message the last read cut off, copying only as much of `incoming` as it
    /// takes (a chunk at a time), not the whole read. True when the rest of `incoming` can be
    /// decoded in place: what is left over lies within the last chunk, so it is handed back.
    /// Chunks grow with the pending message, so a long one (a big `Command` output, searched
    /// from its start for its end marker) is searched a logarithmic number of times.
    private func completeUnreadMessage(_ pending: inout ByteBuffer, with incoming: inout ByteBuffer, context: ChannelHandlerContext) -> Bool {
        while incoming.readableBytes > 0 {
            let chunk = min(incoming.readableBytes, max(Self.completionChunk, pending.readableBytes))
            var slice = incoming.readSlice(length: chunk)!
            pending.writeBuffer(&slice)
            decodeFrames(from: &pending, context: context)
            if decodingFailed { return false }
            if pending.readableBytes <= chunk {
                // The decoder's progress counts from the message's first byte, which is the
                // same byte in `incoming`: its scan resumes where it was.
                incoming.moveReaderIndex(to: incoming.readerIndex - pending.readableBytes)
                return true
            }
        }
        return false
    }

    private static let completionChunk = 2048

    /// Runs every whole frame in `buffer` through the state machine; what is left is less than
    /// one message.
    private func decodeFrames(from buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        do {
            while let frame = try decoder.decode(buffer: &buffer) {
                run(stateMachine.frameReceived(frame), context: context)
            }
        } catch {
            decodingFailed = true
            errorCaught(context: context, error: error)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if readTime != nil {
            readTime = nil
            readCompleteSink()
        }
        context.fireChannelReadComplete()
    }

    /// Holds the read back while the event consumer is behind.
    func read(context: ChannelHandlerContext) {
        if readingPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let amiError = (error as? AMIError) ?? AMIError(.connectionClosed, "socket error", detail: "\(error)")
        run(stateMachine.errorCaught(amiError), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A message cut off by the peer closing is dropped: half an event would be worse than none.
        unread = nil
        run(stateMachine.connectionClosed(), context: context)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let request = event as? LogoffRequest {
            run(stateMachine.logoffRequested(timeout: request.timeout), context: context)
        } else if event is ResumeReading {
            resumeReading(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        pending[request.actionID] = request.promise
        run(stateMachine.requestSent(request.action, actionID: request.actionID, timeout: request.timeout), context: context)
        promise?.succeed()
    }

    /// Asks a logged-in connection to say `Logoff` before closing.
    struct LogoffRequest: Sendable {
        var timeout: Duration
    }

    /// The event consumer has caught up: read the socket again.
    struct ResumeReading: Sendable {}

    private func resumeReading(context: ChannelHandlerContext) {
        guard readingPaused, !stillPausedSink() else { return }
        readingPaused = false
        run(stateMachine.readingResumed(), context: context)
        if readPending {
            readPending = false
            context.read()
        }
    }

    // MARK: - Running actions

    private func run(_ action: AMIConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .write(let action, let actionID):
            var buffer = context.channel.allocator.buffer(capacity: 128)
            do {
                try action.encode(actionID: actionID, into: &buffer)
                context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            } catch {
                // Consumer actions were validated before they got here; this is our own bug.
                logger.error("could not encode an AMI action", metadata: ["action": "\(action.name)", "error": "\(error)"])
                pending.removeValue(forKey: actionID)?.fail(error)
            }
        case .armTimer(let timer, let delay):
            timers[timer]?.cancel()
            timers[timer] = context.eventLoop.assumeIsolated().scheduleTask(in: .init(delay)) { [weak self] in
                guard let self, let context = self.context else { return }
                self.timers[timer] = nil
                self.run(self.stateMachine.timerFired(timer), context: context)
            }
        case .cancelTimer(let timer):
            timers.removeValue(forKey: timer)?.cancel()
        case .reportLoggedIn(let banner):
            loginSink(banner)
            loggedIn.succeed(banner)
        case .deliverEvent(let message):
            deliver(message, context: context)
        case .succeedRequest(let actionID, let response):
            pending.removeValue(forKey: actionID)?.succeed(response)
        case .failRequest(let actionID, let error):
            pending.removeValue(forKey: actionID)?.fail(error)
        case .closeConnection:
            context.close(promise: nil)
        case .reportClosed(let reason):
            for timer in timers.values { timer.cancel() }
            timers.removeAll()
            loggedIn.fail(reason)
            closed.succeed(reason)
        case .logWarning(let message):
            logger.warning("\(message)")
        case .many(let actions):
            for action in actions { run(action, context: context) }
        }
    }

    private func deliver(_ message: AMIMessage, context: ChannelHandlerContext) {
        let receivedAt = readTime ?? clock()
        readTime = receivedAt
        if eventSink(message, receivedAt) == .pause, !readingPaused {
            readingPaused = true
            pauseSink()
            run(stateMachine.readingPaused(), context: context)
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
