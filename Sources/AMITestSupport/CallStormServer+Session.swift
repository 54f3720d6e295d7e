import AMIProtocol
import NIOCore

extension CallStormServer {
    /// How far a connected client has come; the stream goes to every client from `loggedIn` on.
    public enum ClientStage: Int, Sendable, Comparable {
        case connected
        /// Its `Login` was accepted (any secret, plain or after a `Challenge`).
        case loggedIn
        /// It has also had its `CoreShowChannels` answered: amibridge reconciles its live calls
        /// with that list after each login, so a stream started earlier would race the reconcile.
        case reconciled

        public static func < (lhs: ClientStage, rhs: ClientStage) -> Bool { lhs.rawValue < rhs.rawValue }
    }
}

/// One client connection of a ``CallStormServer``: greets like Asterisk 20 and answers the actions
/// a client sends around the stream (`Login`, `Challenge`, `Events`, `Filter`, `Ping`,
/// `CoreShowChannels` with no channel, `Logoff`); the stream itself is written by the server.
///
/// The answers are those of `FakeAMISession.answerGenerically`; this is a plain channel handler
/// rather than a `FakeAMIServer` behavior because the stream is written to every client from
/// one producer while each connection goes on answering its own actions.
final class CallStormSessionHandler: ChannelInboundHandler {
    typealias InboundIn = AMIFrame
    typealias OutboundOut = ByteBuffer

    static let banner = "Asterisk Call Manager/9.0.0\r\n"

    private let clients: CallStormServer.Clients

    init(clients: CallStormServer.Clients) {
        self.clients = clients
    }

    func channelActive(context: ChannelHandlerContext) {
        clients.connected(context.channel)
        write(Self.banner, context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        clients.disconnected(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .message(let action) = unwrapInboundIn(data) else { return }
        let id = action["ActionID"].map { "ActionID: \($0)\r\n" } ?? ""
        switch action["Action"]?.lowercased() {
        case "login":
            write("Response: Success\r\n\(id)Message: Authentication accepted\r\n\r\n", context: context)
            clients.reached(.loggedIn, context.channel)
        case "challenge":
            write("Response: Success\r\n\(id)Challenge: 840143367\r\n\r\n", context: context)
        case "ping":
            write("Response: Success\r\n\(id)Ping: Pong\r\nTimestamp: 1795615869.550938\r\n\r\n", context: context)
        case "events":
            let on = action["EventMask"]?.lowercased() == "off" ? "Off" : "On"
            write("Response: Success\r\n\(id)Events: \(on)\r\n\r\n", context: context)
        case "filter":
            write("Response: Success\r\n\(id)Message: Success\r\n\r\n", context: context)
        case "coreshowchannels":
            write("Response: Success\r\n\(id)EventList: start\r\nMessage: Channels will follow\r\n\r\n"
                + "Event: CoreShowChannelsComplete\r\n\(id)EventList: Complete\r\nListItems: 0\r\n\r\n", context: context)
            clients.reached(.reconciled, context.channel)
        case "logoff":
            write("Response: Goodbye\r\n\(id)Message: Thanks for all the fish.\r\n\r\n", context: context)
            context.close(promise: nil)
        default:
            let name = action["Action"] ?? ""
            write("Response: Error\r\n\(id)Message: Invalid/unknown command: \(name). Use Action: ListCommands to show available commands.\r\n\r\n", context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func write(_ text: String, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
    }
}
