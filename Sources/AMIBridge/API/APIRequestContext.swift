import Hummingbird
import NIOCore

/// Per-request state of the HTTP API: the peer address for the IP allowlist, the authenticated
/// key for rate limiting and handlers, and the body limit that `request.decode` honours.
struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    var remoteAddress: SocketAddress?
    /// Set by ``APIKeyAuthMiddleware``; nil on unauthenticated routes.
    var apiKeyID: String?
    var bodyLimit = 1 << 20

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    var maxUploadSize: Int { bodyLimit }
}
