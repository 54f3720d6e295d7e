@testable import AMIBridge
import EventMapper
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import ViciDial

/// A temporary state directory with a real key store, and servers built over it.
struct APITestEnvironment {
    let directory: String
    let store: APIKeyStore
    let clock = TestClock()

    init() throws {
        directory = NSTemporaryDirectory() + "amibridge-api-" + UUID().uuidString
        store = try APIKeyStore(stateDirectory: directory)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    func application(
        _ configure: (inout APIConfiguration) -> Void = { _ in }, checks: [ReadinessCheck] = [], vicidial: ViciDialRepository? = nil,
        metrics: BridgeMetrics? = nil
    ) -> Application<RouterResponder<APIRequestContext>> {
        var configuration = APIConfiguration()
        configuration.stateDirectory = directory
        configure(&configuration)
        let clock = self.clock
        return APIServer(
            configuration: configuration, keyStore: store, readinessChecks: checks, vicidial: vicidial, metrics: metrics, now: { clock.now }
        ).makeApplication()
    }

    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }
}

/// Time that moves only when a test says so: rate-limit tests advance it instead of sleeping.
final class TestClock: Sendable {
    private let instant = NIOLockedValueBox(ContinuousClock.now)

    var now: ContinuousClock.Instant { instant.withLockedValue { $0 } }

    func advance(by duration: Duration) { instant.withLockedValue { $0 = $0.advanced(by: duration) } }
}

/// The `{"error": {"code", "message"}}` body every refusal carries.
struct APIErrorBody: Decodable {
    struct Detail: Decodable {
        var code: String
        var message: String
    }
    var error: Detail

    /// nil when the body is not such an error, which fails the test's comparison.
    static func decode(_ buffer: ByteBuffer) -> APIErrorBody? {
        try? JSONDecoder().decode(APIErrorBody.self, from: Data(buffer.readableBytesView))
    }
}
