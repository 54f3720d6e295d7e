import CoreMetrics
import NIOConcurrencyHelpers
import NIOPosix
import Prometheus

/// The daemon's `/metrics`: one Prometheus registry behind swift-metrics.
///
/// The library targets record through the swift-metrics API (AMI clients, the call tracker, the
/// webhook dispatcher); ``bootstrap()`` makes this registry their backend. Values that are cheaper
/// to read than to track (live calls, outbox rows) are read by collectors just before each scrape.
/// Every series is listed in README "Metrics".
final class BridgeMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    private let collectors = NIOLockedValueBox<[@Sendable () -> Void]>([])
    /// Where collectors run: a thread of the metrics' own. Collectors block (an SQLite count), so
    /// not on an event loop or Swift's cooperative pool; and not on a pool shared with work that
    /// can hang (a query to a hung database, a slow webhook check), which would stall every scrape.
    private let collectorThread: NIOThreadPool

    init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Event lag is normally well under a millisecond; a backlog shows as seconds.
        factory.durationHistogramBuckets["amibridge_ami_event_lag_seconds"] = [
            .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
            .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30),
        ]
        // Delivery latency includes retries: from milliseconds up to the hours of a CRM outage.
        factory.durationHistogramBuckets["amibridge_webhook_delivery_latency_seconds"] = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30), .seconds(60),
            .seconds(300), .seconds(1800), .seconds(3600), .seconds(21_600),
        ]
        // An API answer takes milliseconds; a lead import or a hung database, seconds.
        factory.durationHistogramBuckets["amibridge_api_request_duration_seconds"] = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
        ]
        self.registry = registry
        self.factory = factory
        collectorThread = NIOThreadPool(numberOfThreads: 1)
        collectorThread.start()
    }

    deinit {
        collectorThread.shutdownGracefully { _ in }
    }

    /// Makes this registry the backend of every swift-metrics call in the process. Once per
    /// process, before the parts that record are created (they bind their handlers then).
    func bootstrap() {
        MetricsSystem.bootstrap(factory)
    }

    /// Runs `collector` before every scrape, to set gauges from the current state.
    func addCollector(_ collector: @escaping @Sendable () -> Void) {
        collectors.withLockedValue { $0.append(collector) }
    }

    /// The Prometheus text exposition, built on the metrics' own thread (see `collectorThread`).
    /// Collectors must not wait on anything that can hang, the ViciDial database above all:
    /// `/metrics` has to answer while a dependency does not.
    func exposition() async throws -> [UInt8] {
        try await collectorThread.runIfActive {
            for collector in self.collectors.withLockedValue({ $0 }) { collector() }
            var buffer: [UInt8] = []
            self.registry.emit(into: &buffer)
            return buffer
        }
    }
}
