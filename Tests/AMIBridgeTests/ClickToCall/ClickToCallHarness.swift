@testable import AMIBridge
import AMIProtocol
import AMITestSupport
import CRMSink
import EventMapper
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing

/// The click-to-call path in one process, with real parts: an `AMIClient` on a fake Asterisk on
/// 127.0.0.1, the call tracker, the registry, the call pipeline that turns updates into webhook
/// events, and the API router with a real key store.
struct ClickToCallHarness {
    let environment: APITestEnvironment
    let key: APIKey
    let service: ClickToCallService
    let registry: ClickToCallRegistry
    /// Every update the tracker reported, as it came.
    let updates: AsyncStream<CallUpdate>
    /// Every webhook the pipeline emitted.
    let webhooks: WebhookLog

    /// Runs `body` with the harness connected to an AMI server on `amiPort`, logged in.
    static func with<Result: Sendable>(
        amiPort: Int,
        responseTimeout: Double = 180,
        vicidial lookUp: ClickToCallService.AgentPhoneLookup? = nil,
        configure: (inout ClickToCallConfiguration) -> Void = { _ in },
        api configureAPI: (inout APIConfiguration) -> Void = { _ in },
        _ body: @Sendable (ClickToCallHarness, any TestClientProtocol) async throws -> Result
    ) async throws -> Result {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let events = AMIEventStream(capacity: 10_000)
        let client = AMIClient(
            configuration: .init(name: "dialer1", host: "127.0.0.1", port: amiPort, session: .init(username: "bridge", secret: "s3cret-AMI")),
            events: events
        )
        let registry = ClickToCallRegistry(limits: .init(retention: .seconds(3600), maximumCalls: 1000))
        let webhooks = WebhookLog()
        // The daemon's own emit stage, handed each batch directly so that a batch's webhooks are
        // stored before the test sees its updates.
        let outbox = try Outbox(stateDirectory: environment.directory + "/outbox")
        let hangups = StageQueue<ClickToCallRegistry.DeferredHangup>(capacity: 1_000)
        let emit = EmitStage(
            updates: StageQueue(capacity: 1), // unused: batches are handed over directly
            outbox: PipelineOutbox(
                outbox: outbox, emitter: WebhookEmitter(outbox: outbox, endpoints: []), clock: SystemEpochClock(),
                logger: Logger(label: "test.webhooks"), stored: { for event in $0 { webhooks.append(event) } }
            ),
            join: nil, clickToCall: registry, hangups: hangups, outages: nil, recentUniqueids: RecentSet(capacity: 1_000),
            callLog: CallLog(logger: Logger(label: "test.calls")), clock: SystemEpochClock()
        )
        let (updates, continuation) = AsyncStream.makeStream(of: CallUpdate.self)
        let tracking = CallTrackingService(
            events: events,
            configuration: .init(
                tracker: { CallTracker.Configuration(server: $0, originateResponseTimeout: responseTimeout) },
                tickInterval: .milliseconds(50)
            ),
            listChannels: { _ in try await client.send(.coreShowChannels).listItems }
        ) { batch in
            await emit.handle(batch)
            for update in batch { continuation.yield(update) }
        }
        var configuration = ClickToCallConfiguration()
        configuration.context = "customers"
        configure(&configuration)
        let service = ClickToCallService(
            configuration: configuration, registry: registry, tracking: tracking, servers: [client],
            lookUpAgentPhone: lookUp, logger: Logger(label: "test.click2call")
        )
        let key = try environment.store.create(name: "crm")
        let harness = ClickToCallHarness(environment: environment, key: key, service: service, registry: registry, updates: updates, webhooks: webhooks)
        let application = APIServer(
            configuration: { var api = APIConfiguration(); api.stateDirectory = environment.directory; configureAPI(&api); return api }(),
            keyStore: environment.store, clickToCall: service,
            // Rate-limit time moves only when a test says so, however slow the machine.
            now: { [clock = environment.clock] in clock.now }
        ).makeApplication()

        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            group.addTask { try await tracking.run() }
            group.addTask { try await HangupStage(hangups: hangups, servers: [client], logger: Logger(label: "test.click2call")).run() }
            defer { group.cancelAll() }
            try await withDeadline(.seconds(30)) {
                while true {
                    if case .loggedIn = client.status { return }
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            return try await application.test(.router) { testClient in try await body(harness, testClient) }
        }
    }

    var authorization: HTTPFields { APITestEnvironment.bearer(key.text) }

    /// POSTs `json` to /v1/calls; the status and the decoded body.
    func post(_ client: any TestClientProtocol, _ json: String, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, [String: Any], HTTPFields) {
        var all = authorization
        all[.contentType] = "application/json"
        all.append(contentsOf: headers)
        return try await client.execute(uri: "/v1/calls", method: .post, headers: all, body: ByteBuffer(string: json)) { response in
            let body = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
            return (response.status, body, response.headers)
        }
    }

    func get(_ client: any TestClientProtocol, _ callID: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: "/v1/calls/\(callID)", method: .get, headers: authorization) { response in
            ((response.status), (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:])
        }
    }

    /// Waits for the tracker's last word on `callID` (completed or timed out).
    func ended(_ callID: String) async throws {
        try await withDeadline(.seconds(30)) {
            for await update in updates {
                switch update {
                case .completed(let record) where record.callID == callID: return
                case .originateTimedOut(_, let id, _) where id == callID: return
                default: continue
                }
            }
        }
    }
}

/// The webhooks a test's pipeline emitted, in order.
final class WebhookLog: Sendable {
    private let events = NIOLockedValueBox<[WebhookEvent]>([])

    func append(_ event: WebhookEvent) { events.withLockedValue { $0.append(event) } }

    var all: [WebhookEvent] { events.withLockedValue { $0 } }
}
