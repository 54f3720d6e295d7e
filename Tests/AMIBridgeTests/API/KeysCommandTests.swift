@testable import AMIBridge
import ArgumentParser
import Foundation
import Testing

/// `amibridge keys create|list|revoke` through the built binary, in a temporary state directory.
@Suite("amibridge keys")
struct KeysCommandTests {
    @Test("create prints the key once; list never shows a secret; revoke makes it fail")
    func createListRevoke() async throws {
        let directory = NSTemporaryDirectory() + "amibridge-keys-cli-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let create = try await OutboxCommandTests.run(["keys", "create", "--name", "crm-prod", "--state-dir", directory])
        #expect(create.status == 0)
        let text = create.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try #require(APIKey(text: text))

        let store = try APIKeyStore(stateDirectory: directory)
        #expect(try store.authenticate(text) == key.id)

        let list = try await OutboxCommandTests.run(["keys", "list", "--state-dir", directory])
        #expect(list.status == 0)
        #expect(list.output.contains(key.id))
        #expect(list.output.contains("crm-prod"))
        #expect(!list.output.contains(key.secret))

        let revoke = try await OutboxCommandTests.run(["keys", "revoke", key.id, "--state-dir", directory])
        #expect(revoke.status == 0)
        #expect(try store.authenticate(text) == nil)
        let after = try await OutboxCommandTests.run(["keys", "list", "--state-dir", directory])
        let row = after.output.split(separator: "\n").first { $0.hasPrefix(key.id) }
        let revokedAt = try #require(row?.split(separator: "\t").last)
        #expect(revokedAt != "-")

        let unknown = try await OutboxCommandTests.run(["keys", "revoke", "000000000000", "--state-dir", directory])
        #expect(unknown.status != 0)
        #expect(unknown.errors.contains("no key with id 000000000000"))
    }

    /// The same subcommands parsed and run in-process, so they are covered before registration.
    @Test("in-process: create stores a working key, list reads, revoke disables, unknown id fails")
    func inProcess() async throws {
        let directory = NSTemporaryDirectory() + "amibridge-keys-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var early = try #require(try KeysCommand.parseAsRoot(["list", "--state-dir", directory]) as? KeysCommand.List)
        #expect(throws: ValidationError.self) { try early.run() }
        #expect(!FileManager.default.fileExists(atPath: directory))

        var create = try #require(try KeysCommand.parseAsRoot(["create", "--name", "crm-prod", "--state-dir", directory]) as? KeysCommand.Create)
        #expect(create.name == "crm-prod")
        try create.run()

        let store = try APIKeyStore(stateDirectory: directory)
        let record = try #require(try store.list().first)
        #expect(record.name == "crm-prod")
        #expect(record.revokedAt == nil)

        var list = try #require(try KeysCommand.parseAsRoot(["list", "--state-dir", directory]) as? KeysCommand.List)
        try list.run()

        var revoke = try #require(try KeysCommand.parseAsRoot(["revoke", record.id, "--state-dir", directory]) as? KeysCommand.Revoke)
        try revoke.run()
        #expect(try store.list().first?.revokedAt != nil)

        var unknown = try #require(try KeysCommand.parseAsRoot(["revoke", "000000000000", "--state-dir", directory]) as? KeysCommand.Revoke)
        #expect(throws: (any Error).self) { try unknown.run() }
    }
}
