import EventMapper
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import ViciDial

/// The daemon's HTTP API: health and readiness probes, its OpenAPI document, and the
/// authenticated `/v1` routes (described in `Docs/openapi.json`).
///
/// A `Service`, so the daemon's `ServiceGroup` starts it with the rest and stops it gracefully on
/// SIGTERM. The router is built separately (``makeRouter()``) so tests drive it without a socket.
///
/// Middleware order, outermost first: request metrics (every answer counts), CORS (so every answer
/// to an allowed origin, errors included, carries its headers), JSON errors, IP allowlist, body
/// limit; on `/v1` also API key, then rate limit. Refusals that need no key (403, 413) come before
/// those that do. `/metrics`, the status page `/` and its `/status.json` need no key but are
/// behind the IP allowlist.
struct APIServer: Service {
    var configuration: APIConfiguration
    var keyStore: APIKeyStore
    var readinessChecks: [ReadinessCheck]
    /// ViciDial's database, for the routes that read or write it; nil when `vicidial.db` is not
    /// configured, and those routes answer 503.
    var vicidial: ViciDialRepository?
    /// Click-to-call; nil when there is no AMI server to originate on (those routes answer 503).
    var clickToCall: ClickToCallService?
    /// Serves `/metrics` and counts requests when set (the daemon); nil in most router tests.
    var metrics: BridgeMetrics?
    /// The status page's data (the daemon); nil in most router tests, where `/status.json` answers 503.
    var status: StatusService?
    var rateLimiter: TokenBucketRateLimiter
    var logger: Logger

    init(
        configuration: APIConfiguration,
        keyStore: APIKeyStore,
        readinessChecks: [ReadinessCheck] = [],
        vicidial: ViciDialRepository? = nil,
        clickToCall: ClickToCallService? = nil,
        metrics: BridgeMetrics? = nil,
        status: StatusService? = nil,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        logger: Logger = Logger(label: "amibridge.api")
    ) {
        self.configuration = configuration
        self.keyStore = keyStore
        self.readinessChecks = readinessChecks
        self.vicidial = vicidial
        self.clickToCall = clickToCall
        self.metrics = metrics
        self.status = status
        self.rateLimiter = TokenBucketRateLimiter(perMinute: configuration.rateLimitPerMinute, now: now)
        self.logger = logger
    }

    func run() async throws {
        try await ListenFailure.exitOnFailure(setting: "api.listen", host: configuration.host, port: configuration.port, logger: logger) {
            try await makeApplication().run()
        }
    }

    /// A connection that completes no request part for this long is closed: idle keep-alive
    /// connections, and slow-loris ones dribbling a request head byte by byte, cannot hold the
    /// daemon's descriptors forever. A response being written is never cut.
    static let idleTimeout = TimeAmount.seconds(30)

    func makeApplication() -> Application<RouterResponder<APIRequestContext>> {
        Application(
            router: makeRouter(),
            server: .http1(configuration: .init(idleTimeout: Self.idleTimeout)),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "amibridge"),
            onServerRunning: { [logger] channel in
                // The bound port: `api.listen` may say port 0 (tests, several daemons on one box).
                logger.info("HTTP API listening", metadata: ["port": "\(channel.localAddress?.port ?? -1)"])
            },
            logger: logger
        )
    }

    func makeRouter() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: AccessLogMiddleware(factory: metrics?.factory, logger: Logger(label: "amibridge.api.access")))
        router.add(middleware: CORSAllowlistMiddleware(allowedOrigins: configuration.corsOrigins))
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: IPAllowlistMiddleware(allowlist: configuration.ipAllowlist))
        router.add(middleware: BodyLimitMiddleware(limit: configuration.bodyLimitBytes))

        router.get("healthz") { _, _ in Response.json(["status": "ok"]) }
        let checks = readinessChecks
        router.get("readyz") { _, _ in
            let report = await ReadinessReport.evaluate(checks)
            return Response.json(report, status: report.isReady ? .ok : .serviceUnavailable)
        }
        // The API's description (Docs/openapi.json): no key, like the probes, so tools can fetch it.
        router.get("openapi.json") { _, _ in OpenAPIDocument.response() }
        if let metrics {
            // No API key (Prometheus scrapers rarely carry one), but behind the IP allowlist.
            router.get("metrics") { _, _ in
                Response(
                    status: .ok,
                    headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: try await metrics.exposition()))
                )
            }
        }

        // The status page and its JSON: no key, like /metrics, but behind the IP allowlist.
        let statusRoutes = StatusRoutes(service: status)
        statusRoutes.register(on: router)

        ViciDialCompatRoutes(keyStore: keyStore, rateLimiter: rateLimiter, clickToCall: clickToCall, vicidial: vicidial).register(on: router)

        let v1 = router.group("v1")
            .add(middleware: APIKeyAuthMiddleware(store: keyStore))
            .add(middleware: RateLimitMiddleware(limiter: rateLimiter))
        CallRoutes(service: clickToCall).register(on: v1)
        // Proves the chain (key, rate limit) without side effects: for monitoring and key checks.
        v1.get("ping") { _, context in Response.json(Pong(pong: true, key: context.apiKeyID ?? "")) }
        v1.post("ping") { _, context in Response.json(Pong(pong: true, key: context.apiKeyID ?? "")) }
        AgentRoutes(vicidial: vicidial).register(on: v1)
        RecordingRoutes(vicidial: vicidial, files: RecordingFiles(directories: configuration.recordingDirectories)).register(on: v1)
        LeadRoutes(vicidial: vicidial).register(on: v1)
        statusRoutes.register(on: v1)
        return router
    }

    private struct Pong: Encodable {
        var pong: Bool
        var key: String
    }
}
