@testable import AMIBridge
import Configuration
import Foundation
import Testing

/// The `nats:` section: off without urls, read with the library's defaults, errors naming the key.
@Suite("NATS configuration")
struct NATSConfigurationTests {
    static func read(_ environment: [String: String]) async throws -> NATSConfiguration? {
        try NATSConfiguration.read(try await ConfigReader.amibridge(path: nil, environment: environment))
    }

    @Test("off by default; the example file leaves it off")
    func offByDefault() async throws {
        #expect(try await Self.read([:]) == nil)
        let loaded = try await DaemonConfiguration.load(path: DaemonProcessTests.exampleConfig.path, environment: ["AMI_SECRET": "x"])
        #expect(loaded.nats == nil)
    }

    @Test("urls turn it on: the stream takes <prefix>.>, file storage, 30 min duplicate window by default")
    func on() async throws {
        let nats = try #require(try await Self.read(["NATS_URLS": "nats://a:4222, nats://b:4222", "NATS_REPLICAS": "3", "NATS_PASSWORD": "pw", "NATS_USER": "bridge"]))
        #expect(nats.connection.urls == ["nats://a:4222", "nats://b:4222"])
        #expect(nats.connection.user == "bridge" && nats.connection.password == "pw")
        #expect(nats.stream.name == "AMIBRIDGE" && nats.stream.subjects == ["amibridge.>"] && nats.stream.replicas == 3)
        #expect(nats.stream.duplicateWindow == .seconds(1800) && !nats.stream.memoryStorage)
        #expect(nats.route.subjectPrefix == "amibridge" && nats.manageStream)
        #expect(nats.publishTimeout == .seconds(5) && nats.connection.requestTimeout == .seconds(5))
    }

    @Test("a bad value is an error naming its key", arguments: [
        ("NATS_REPLICAS", "7", "nats.replicas"), ("NATS_SUBJECT_PREFIX", "a b", "nats.subject_prefix"),
        ("NATS_STREAM", "my.stream", "nats.stream"), ("NATS_DUPLICATE_WINDOW_SECONDS", "0", "nats.duplicate_window_seconds"),
        ("NATS_TLS", "maybe", "nats.tls"),
    ])
    func badValue(_ variable: String, _ value: String, _ key: String) async throws {
        do {
            _ = try await Self.read(["NATS_URLS": "nats://a:4222", variable: value])
            Issue.record("\(variable)=\(value) was accepted")
        } catch let error as ConfigurationError {
            #expect("\(error)".contains(key), "\(error)")
        }
    }
}
