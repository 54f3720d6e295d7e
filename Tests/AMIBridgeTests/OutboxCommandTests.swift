import CRMSink
import AMITestSupport
import Foundation
import Testing

/// `amibridge outbox ...` and the webhook keys, through the built binary.
@Suite("amibridge outbox")
struct OutboxCommandTests {
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String, errors: String) {
        let (process, output, errors) = try DaemonProcessTests.launch(arguments, environment: environment)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        await ChildProcess.waitForExit(process)
        return (process.terminationStatus, text, errorText)
    }

    @Test("a bad webhook endpoint fails with one line naming the key", arguments: [
        (["WEBHOOKS_ENDPOINTS": "crm1", "WEBHOOKS_CRM1_URL": "ftp://crm.example.com/hook"], "webhooks.crm1.url"),
        (["WEBHOOKS_ENDPOINTS": "crm1", "WEBHOOKS_CRM1_URL": "not a url"], "webhooks.crm1.url"),
        (["WEBHOOKS_ENDPOINTS": "crm1"], "webhooks.crm1.url"),
        (["WEBHOOKS_ENDPOINTS": "crm1", "WEBHOOKS_CRM1_URL": "https://crm.example.com/h", "WEBHOOKS_CRM1_EVENTS": "call_complete,call_ended"], "webhooks.crm1.events"),
        (["WEBHOOKS_ENDPOINTS": "crm1", "WEBHOOKS_CRM1_URL": "https://crm.example.com/h", "WEBHOOKS_CRM1_FORMAT": "xml"], "webhooks.crm1.format"),
        (["WEBHOOKS_ENDPOINTS": "crm1", "WEBHOOKS_CRM1_URL": "https://crm.example.com/h", "WEBHOOKS_CRM1_VERIFY_TLS": "maybe"], "webhooks.crm1.verify_tls"),
    ])
    func badEndpoint(environment: [String: String], key: String) async throws {
        let result = try await Self.run(["outbox", "list", "--config", DaemonProcessTests.exampleConfig.path], environment: environment)
        #expect(result.status == 78)
        #expect(result.errors.split(separator: "\n").count == 1)
        #expect(result.errors.contains("\(key):"))
    }

    @Test("list shows dead letters; retry re-drives them; purge deletes them")
    func listRetryPurge() async throws {
        let directory = NSTemporaryDirectory() + "amibridge-outbox-cli-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = try Outbox(stateDirectory: directory)
        let endpoint = try WebhookEndpoint.Configuration(name: "crm1", url: "https://crm.example.com/hook")
        let events = (0..<2).map { WebhookEvent(name: .callComplete, callKey: "call-\($0)") }
        try outbox.enqueueBlocking(events.flatMap { OutboxNewDelivery.deliveries(of: $0, to: [endpoint]) })
        let claimed = try outbox.claim(limit: 2)
        try outbox.record(claimed.map { .dead(id: $0.id, status: 404, error: "HTTP 404") })

        let list = try await Self.run(["outbox", "list", "--state-dir", directory, "--state", "dead"])
        #expect(list.status == 0)
        #expect(list.output.contains("crm1: 0 pending, 0 in_flight, 0 waiting_to_retry, 2 dead"))
        #expect(list.output.contains(events[0].eventID.uuidString.lowercased()))
        #expect(list.output.contains("HTTP 404"))

        let retry = try await Self.run(["outbox", "retry", "--state-dir", directory, String(claimed[0].id)])
        #expect(retry.output.contains("1 deliveries queued again"))
        let purge = try await Self.run(["outbox", "purge", "--state-dir", directory])
        #expect(purge.output.contains("1 deliveries deleted"))
        #expect(try outbox.counts() == ["crm1": [.pending: 1]])
    }
}
