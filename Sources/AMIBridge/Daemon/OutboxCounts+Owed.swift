import CRMSink

extension Dictionary where Key == OutboxDeliveryState, Value == Int {
    /// Deliveries an endpoint is still owed: pending, in flight or waiting to retry (not dead).
    var owed: Int { filter { $0.key != .dead }.values.reduce(0, +) }
}
