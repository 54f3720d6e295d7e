import CRMSink
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import UnixSignals

/// SIGHUP (`systemctl reload amibridge`) re-reads the webhook endpoints from the YAML file and the
/// environment, without a restart and without dropping a delivery.
///
/// A file that does not load (bad YAML, a bad value) is one error line and changes nothing.
/// Otherwise the dispatcher learns the new set first, then the emitter, so a row for a new
/// endpoint is never claimed before the dispatcher knows where it goes. Deliveries to an endpoint
/// that stays keep going (retries use its new settings). Deliveries still owed to a removed
/// endpoint become dead letters when their turn comes: kept on disk, listed by
/// `amibridge outbox list`, and re-driven by `amibridge outbox retry` once the endpoint is back.
///
/// Only `webhooks.<name>.*` and `webhooks.endpoints` reload; `webhooks.workers`, `state_dir` and
/// the rest need a restart. The environment is the one the daemon started with.
final class WebhookReloader: Service, Sendable {
    /// Created before the daemon starts its services: from then on a SIGHUP is caught instead of
    /// ending the process (its default action).
    let hangups: UnixSignalsSequence
    let load: @Sendable () async throws -> WebhookConfiguration
    let dispatcher: WebhookDispatcher
    let emitter: WebhookEmitter
    let current: NIOLockedValueBox<[String]>
    /// Deliveries still owed to an endpoint, for the warning when it is removed; nil if unknown.
    let owed: @Sendable (String) -> Int?
    let logger: Logger

    init(
        hangups: UnixSignalsSequence,
        endpoints: [WebhookEndpoint.Configuration],
        dispatcher: WebhookDispatcher,
        emitter: WebhookEmitter,
        owed: @escaping @Sendable (String) -> Int? = { _ in nil },
        logger: Logger,
        load: @escaping @Sendable () async throws -> WebhookConfiguration
    ) {
        self.hangups = hangups
        self.load = load
        self.dispatcher = dispatcher
        self.emitter = emitter
        self.current = NIOLockedValueBox(endpoints.map(\.name))
        self.owed = owed
        self.logger = logger
    }

    /// The endpoints in force, by name.
    var endpointNames: [String] { current.withLockedValue { $0 } }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in self.hangups {
                await self.reload()
            }
        }
    }

    func reload() async {
        let configuration: WebhookConfiguration
        do {
            configuration = try await load()
        } catch {
            logger.error("SIGHUP: configuration not reloaded; the webhook endpoints stay as they were", metadata: ["error": "\(error)"])
            return
        }
        let names = configuration.endpoints.map(\.name)
        let previous = current.withLockedValue { current in
            defer { current = names }
            return current
        }
        dispatcher.updateEndpoints(configuration.endpoints)
        emitter.updateEndpoints(configuration.endpoints)
        let removed = previous.filter { !names.contains($0) }
        logger.notice("SIGHUP: webhook endpoints reloaded", metadata: [
            "endpoints": "\(names.joined(separator: ","))",
            "added": "\(names.filter { !previous.contains($0) }.joined(separator: ","))",
            "removed": "\(removed.joined(separator: ","))",
        ])
        for endpoint in removed {
            guard let count = owed(endpoint), count > 0 else { continue }
            logger.warning(
                "endpoint removed: its deliveries still owed become dead letters; `amibridge outbox retry --endpoint` re-drives them once it is back",
                metadata: ["endpoint": "\(endpoint)", "count": "\(count)"]
            )
        }
    }
}
