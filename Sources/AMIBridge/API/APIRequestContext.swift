import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// Per-request state of the HTTP API: the peer address for the IP allowlist, the authenticated
/// key for rate limiting and handlers, and the body limit that `request.decode` honours.
struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    var remoteAddress: SocketAddress?
    /// Set by ``APIKeyAuthMiddleware``; nil on unauthenticated routes.
    var apiKeyID: String?
    /// The same key id, for the access log: set wherever a key is accepted (the `/v1` middleware,
    /// `/agc/api.php`'s `api_key` parameter). A box shared by every copy of this context, because
    /// the access log is the outermost middleware and a context changed further in never comes back.
    let authenticatedKeyID = NIOLockedValueBox<String?>(nil)
    var bodyLimit = 1 << 20

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    var maxUploadSize: Int { bodyLimit }
}
