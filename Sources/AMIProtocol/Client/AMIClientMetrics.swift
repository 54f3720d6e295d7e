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
    /// lookup of its name's bytes, without the shared lock or a string.
    func eventCounters() -> EventCounters { EventCounters(metrics: self) }

    final class EventCounters {
        private let metrics: AMIClientMetrics
        /// Open addressing by a hash of the name's bytes; 1,024 slots (a power of two), more than three
        /// times the names' cap, so a probe ends quickly and the table never fills.
        private var slots: [(name: [UInt8], counter: Counter)?]
        private var cached = 0

        fileprivate init(metrics: AMIClientMetrics) {
            self.metrics = metrics
            slots = Array(repeating: nil, count: 1024)
        }

        func count(_ message: AMIMessage) {
            let counted: Bool = message.withEventNameBytes { name in
                guard let name else { return false }
                let mask = slots.count - 1
                var slot = Self.hash(name) & mask
                while let entry = slots[slot] {
                    if entry.name.elementsEqual(name) {
                        entry.counter.increment()
                        return true
                    }
                    slot = (slot + 1) & mask
                }
                let counter = metrics.counter(forEvent: String(decoding: name, as: UTF8.self))
                if cached < AMIClientMetrics.maximumEventNames {
                    slots[slot] = (Array(name), counter)
                    cached += 1
                }
                counter.increment()
                return true
            }
            // Not an event (a stray message without a leading `Event`): the slow path.
            if !counted { metrics.counter(forEvent: message.eventName).increment() }
        }

        /// FNV-1a: a few cycles for a ten-byte name, and names differ early.
        private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            return Int(truncatingIfNeeded: hash ^ (hash >> 32))
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
