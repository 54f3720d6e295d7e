@testable import AMIBridge
import CRMSink
import Foundation
import Testing

/// `webhooks.<name>.wait_for_disposition`: read from the file and the environment, checked, and
/// routing each kind of event to the endpoints it is for.
@Suite("wait_for_disposition")
struct WaitForDispositionConfigurationTests {
    static func load(_ yaml: String, environment: [String: String] = [:]) async throws -> WebhookConfiguration {
        let path = NSTemporaryDirectory() + "amibridge-wait-\(UUID()).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await WebhookConfiguration.load(path: path, environment: environment)
    }

    static let twoEndpoints = """
        webhooks:
          endpoints: [plain, tutorial]
          plain:
            url: https://crm.example.com/hooks
          tutorial:
            url: https://crm.example.com/webhook_receiver.php
            events: [call_complete]
            wait_for_disposition: yes
        """

    @Test("from the file, off by default, and from the environment")
    func read() async throws {
        let configuration = try await Self.load(Self.twoEndpoints)
        #expect(configuration.endpoints.map(\.waitsForDisposition) == [false, true])
        let overridden = try await Self.load(Self.twoEndpoints, environment: ["WEBHOOKS_TUTORIAL_WAIT_FOR_DISPOSITION": "false", "WEBHOOKS_PLAIN_WAIT_FOR_DISPOSITION": "true"])
        #expect(overridden.endpoints.map(\.waitsForDisposition) == [true, false])
    }

    @Test("a value that is not a boolean, or an endpoint without call_complete, is an error naming the key")
    func errors() async throws {
        for (environment, problem) in [
            (["WEBHOOKS_TUTORIAL_WAIT_FOR_DISPOSITION": "maybe"], "'maybe' is not true or false"),
            (["WEBHOOKS_TUTORIAL_EVENTS": "disposition_set"], "add call_complete to events"),
        ] {
            do {
                _ = try await Self.load(Self.twoEndpoints, environment: environment)
                Issue.record("no error for \(environment)")
            } catch let error as ConfigurationError {
                #expect(error.key == "webhooks.tutorial.wait_for_disposition", "\(error)")
                #expect(error.problem.contains(problem), "\(error)")
            }
        }
    }

    @Test("each event goes to the endpoints it is for")
    func routing() throws {
        let plain = try WebhookEndpoint.Configuration(name: "plain", url: "https://crm.example.com/a")
        let waiting = try WebhookEndpoint.Configuration(name: "waiting", url: "https://crm.example.com/b", waitsForDisposition: true)
        for (recipients, expected) in [
            (WebhookEvent.Recipients.all, ["plain", "waiting"]),
            (.notWaitingForDisposition, ["plain"]),
            (.waitingForDisposition, ["waiting"]),
        ] {
            var event = WebhookEvent(name: .callComplete, callKey: "dialer1/1")
            event.recipients = recipients
            #expect([plain, waiting].filter { $0.accepts(event) }.map(\.name) == expected, "\(recipients)")
            // The routing is not part of the body.
            #expect(!String(decoding: event.jsonBody(), as: UTF8.self).contains("recipients"))
        }
    }
}
