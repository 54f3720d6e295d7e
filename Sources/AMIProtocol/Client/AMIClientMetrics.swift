import CoreMetrics
import NIOConcurrencyHelpers

/// One AMI client's series, recorded through swift-metrics: the executable decides where they go
/// (Prometheus text on `/metrics`); without a backend (tests, benchmarks) they cost next to nothing.
///
/// - `amibridge_ami_connected{server}`: 1 while logged in, else 0.
/// - `amibridge_ami_reconnects_total{server}`: connections that ended and were retried.
/// - `amibridge_ami_login_failures_total{server}`: logins Asterisk rejected.
/// - `amibridge_ami_events_total{server,event}`: events read, by `Event:` name.
/// - `amibridge_ami_read_pauses_total{server}`: times the client stopped reading its socket because
///   the event consumer was behind (backpressure; no event is lost).
final class AMIClientMetrics: Sendable {
    /// Event names are Asterisk's, a bounded set; this cap only guards the registry against a
    /// server that invents names (each distinct name is a series kept forever).
    static let maximumEventNames = 300

    private let server: String
    private let factory: any MetricsFactory
    private let connected: Gauge
    private let reconnects: Counter
    private let loginFailures: Counter
    private let readPauses: Counter
    private let events = NIOLockedValueBox<[String: Counter]>([:])

    init(server: String, factory: any MetricsFactory = MetricsSystem.factory) {
        self.server = server
        self.factory = factory
        let dimensions = [("server", server)]
        connected = Gauge(label: "amibridge_ami_connected", dimensions: dimensions, factory: factory)
        reconnects = Counter(label: "amibridge_ami_reconnects_total", dimensions: dimensions, factory: factory)
        loginFailures = Counter(label: "amibridge_ami_login_failures_total", dimensions: dimensions, factory: factory)
        readPauses = Counter(label: "amibridge_ami_read_pauses_total", dimensions: dimensions, factory: factory)
        connected.record(0)
    }

    func loggedIn() {
        connected.record(1)
    }

    func sessionEnded(_ reason: AMIError, retrying: Bool) {
        connected.record(0)
        if reason.code == .loginRejected { loginFailures.increment() }
        if retrying { reconnects.increment() }
    }

    func readPaused() {
        readPauses.increment()
    }

    /// A cache of the event counters for one connection's event loop: counting an event costs a
    /// dictionary lookup without the shared lock.
    func eventCounters() -> EventCounters { EventCounters(metrics: self) }

    final class EventCounters {
        private let metrics: AMIClientMetrics
        private var counters: [String: Counter] = [:]

        fileprivate init(metrics: AMIClientMetrics) {
            self.metrics = metrics
        }

        func count(_ message: AMIMessage) {
            let name = message.eventName ?? ""
            if let counter = counters[name] {
                counter.increment()
                return
            }
            let counter = metrics.counter(forEvent: name)
            if counters.count < AMIClientMetrics.maximumEventNames { counters[name] = counter }
            counter.increment()
        }
    }

    private func counter(forEvent name: String?) -> Counter {
        events.withLockedValue { counters -> Counter in
            var key = name ?? ""
            if counters[key] == nil, counters.count >= Self.maximumEventNames { key = "other" }
            if let counter = counters[key] { return counter }
            let counter = Counter(label: "amibridge_ami_events_total", dimensions: [("server", server), ("event", key)], factory: factory)
            counters[key] = counter
            return counter
        }
    }
}
