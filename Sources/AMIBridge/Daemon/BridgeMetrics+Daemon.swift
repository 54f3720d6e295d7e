import CRMSink
import CoreMetrics
import EventMapper
import NIOConcurrencyHelpers

extension BridgeMetrics {
    /// `amibridge_calls_active`: calls followed right now, on every server.
    func collectActiveCalls(_ tracker: CallTrackingService) {
        let gauge = Gauge(label: "amibridge_calls_active", factory: factory)
        addCollector { gauge.record(tracker.liveCallCount) }
    }

    /// `amibridge_calls_held{waiting_for}`: calls on disk waiting for their ViciDial row or for
    /// their disposition, counted at each scrape.
    func collectHeldCalls(_ outbox: Outbox) {
        let gauges = [HeldCall.Kind.viciDialRow, .disposition].map { kind in
            (kind, Gauge(label: "amibridge_calls_held", dimensions: [("waiting_for", kind.rawValue)], factory: factory))
        }
        addCollector {
            guard let counts = try? outbox.heldCallCounts() else { return }
            for (kind, gauge) in gauges { gauge.record(counts[kind] ?? 0) }
        }
    }

    /// `amibridge_outbox_depth{endpoint}` (deliveries still owed: pending, in flight, waiting to
    /// retry) and `amibridge_outbox_dead_letters{endpoint}`, counted in the outbox at each scrape.
    ///
    /// `outbox` should be a connection of its own: in WAL mode its reads never wait for the
    /// dispatcher's writes, nor hold them up. Configured endpoints (`endpoints()`, read at each
    /// scrape, as they change on reload) and endpoints whose rows are all gone read 0.
    func collectOutbox(_ outbox: Outbox, endpoints configured: @escaping @Sendable () -> [String] = { [] }) {
        let factory = self.factory
        let seen = NIOLockedValueBox<Set<String>>([])
        addCollector {
            guard let counts = try? outbox.counts() else { return }
            let endpoints = seen.withLockedValue { seen in
                seen.formUnion(counts.keys)
                seen.formUnion(configured())
                return seen
            }
            for endpoint in endpoints {
                let states = counts[endpoint] ?? [:]
                Gauge(label: "amibridge_outbox_depth", dimensions: [("endpoint", endpoint)], factory: factory).record(states.owed)
                Gauge(label: "amibridge_outbox_dead_letters", dimensions: [("endpoint", endpoint)], factory: factory).record(states[.dead] ?? 0)
            }
        }
    }
}
