import AMITestSupport
import EventMapper
import Foundation
import MariaDB
import Testing
import ViciDial

/// `amibridge check` through the built binary, against a fake Asterisk, the private MariaDB and a
/// local HTTP receiver.
@Suite("amibridge check")
struct CheckCommandTests {
    static func variable(_ name: String) throws -> String {
        try #require(ProcessInfo.processInfo.environment[name], "\(name) is not set: run scripts/test.sh, or eval \"$(scripts/mariadb.sh start DIR)\" first")
    }

    /// The daemon's settings for the private MariaDB, over its socket, as `user`.
    static func databaseEnvironment(user: String? = nil, password: String? = nil) throws -> [String: String] {
        [
            "VICIDIAL_DB_SOCKET": try variable("AMIBRIDGE_DB_SOCKET"),
            "VICIDIAL_DB_USER": try user ?? variable("AMIBRIDGE_DB_USER"),
            "VICIDIAL_DB_PASSWORD": try password ?? variable("AMIBRIDGE_DB_PASSWORD"),
            "VICIDIAL_DB_NAME": try variable("AMIBRIDGE_DB_NAME"),
        ]
    }

    static func check(_ environment: [String: String]) async throws -> (status: Int32, lines: [String], errors: [String]) {
        let state = NSTemporaryDirectory() + "amibridge-check-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: state) }
        return try await ProcessUnderTest.run(
            // Generous limits: these tests are about what is checked, not how fast, and the fake
            // Asterisk shares 2 cores with the rest of the suite.
            ["check", "--config", DaemonProcessTests.exampleConfig.path, "--timeout", "60"],
            environment: ["STATE_DIR": state, "AMI_USERNAME": "bridge", "AMI_AUTH": "plain", "AMI_LOGIN_TIMEOUT_MS": "60000"]
                .merging(environment) { _, new in new }
        )
    }

    @Test("every dependency there: one ✓ line each, exit 0, and the AMI session logs in, pings and logs off")
    func allPass() async throws {
        let database = try Self.databaseEnvironment()
        let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: "unused")
        defer { receiver.process.terminate() }
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.asterisk()) { server in
            let result = try await Self.check(database.merging([
                "AMI_PORT": String(server.port), "AMI_SECRET": "s3cret-check",
                "WEBHOOKS_ENDPOINTS": "crm", "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiverPort)/hooks?token=abc",
            ]) { _, new in new })
            #expect(result.status == 0, "\(result.lines.joined(separator: "\n"))\n\(result.errors)")
            #expect(result.lines.allSatisfy { $0.hasPrefix("✓ ") }, "\(result.lines)")
            let ami = try #require(result.lines.first { $0.hasPrefix("✓ ami:dialer1: ") })
            #expect(ami.contains("logged in as bridge") && ami.contains("Ping"))
            #expect(result.lines.contains { $0.hasPrefix("✓ vicidial_db: logged in as ") })
            for table in ViciDialRepository.tablesRead {
                #expect(result.lines.contains("✓ vicidial_db:\(table): SELECT allowed"), "\(table)")
            }
            let webhook = try #require(result.lines.first { $0.hasPrefix("✓ webhook:crm: ") })
            #expect(webhook.contains("reachable: HEAD http://127.0.0.1:\(receiverPort)/hooks answered"))
            // The query may hold a token: it is neither printed nor sent.
            #expect(!result.lines.joined().contains("token=abc"))
            #expect(result.lines.contains { $0.hasPrefix("✓ state_dir: ") && $0.contains("writable") })
            #expect(!result.lines.joined().contains("s3cret-check"))
            let actions = server.receivedActions.first?.compactMap { $0["Action"] } ?? []
            #expect(actions.first == "Login")
            #expect(actions.contains("Ping"))
            #expect(actions.last == "Logoff")
        }
        // HEAD only: no webhook reached the receiver.
        #expect(!receiver.output.lines.contains { $0.contains(" POST ") }, "\(receiver.output.lines)")
    }

    @Test("a wrong AMI secret, a closed AMI port, a DB user lacking a table and an unreachable endpoint: ✗ with the reason each, exit 1")
    func failures() async throws {
        let user = "amib_check_\(UInt32.random(in: 0...UInt32.max))"
        let password = "pw-\(UUID())"
        let root = try Self.rootConnection()
        _ = try root.execute("CREATE USER '\(user)'@'localhost' IDENTIFIED BY '\(password)'")
        defer { _ = try? root.execute("DROP USER '\(user)'@'localhost'") }
        let database = try Self.variable("AMIBRIDGE_DB_NAME")
        for table in ViciDialRepository.tablesRead where table != "vicidial_users" {
            _ = try root.execute("GRANT SELECT ON `\(database)`.`\(table)` TO '\(user)'@'localhost'")
        }
        let closedAMI = try ClosedPort()
        let closedEndpoint = try ClosedPort()
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.rejectingLogin) { server in
            let result = try await Self.check(try Self.databaseEnvironment(user: user, password: password).merging([
                "AMI_PORT": String(server.port), "AMI_SECRET": "wrong-secret-value",
                "AMI_EXTRA_SERVERS": "dialer2", "AMI_DIALER2_PORT": String(closedAMI.port),
                "WEBHOOKS_ENDPOINTS": "crm", "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(closedEndpoint.port)/hooks",
            ]) { _, new in new })
            let text = result.lines.joined(separator: "\n")
            #expect(result.status == 1, "\(text)\n\(result.errors)")
            #expect(result.lines.contains { $0.hasPrefix("✗ ami:dialer1: loginRejected: ") && $0.contains("Authentication failed") }, "\(text)")
            #expect(result.lines.contains { $0.hasPrefix("✗ ami:dialer2: connectFailed: cannot connect to 127.0.0.1:\(closedAMI.port)") }, "\(text)")
            #expect(result.lines.contains { $0.hasPrefix("✓ vicidial_db: logged in as \(user)") }, "\(text)")
            #expect(result.lines.contains { $0.hasPrefix("✗ vicidial_db:vicidial_users: ") && $0.contains("denied") && $0.contains("1142") }, "\(text)")
            #expect(result.lines.contains("✓ vicidial_db:vicidial_log: SELECT allowed"), "\(text)")
            #expect(result.lines.contains { $0.hasPrefix("✗ webhook:crm: HEAD http://127.0.0.1:\(closedEndpoint.port)/hooks: ") }, "\(text)")
            #expect(result.lines.contains { $0.hasPrefix("✓ state_dir: ") }, "\(text)")
            #expect(!text.contains("wrong-secret-value") && !text.contains(password))
        }
    }

    @Test("a configuration error is one line naming the key, exit 78, as for run")
    func configurationError() async throws {
        let result = try await Self.check(["AMI_SECRET": "x", "WEBHOOKS_ENDPOINTS": "crm", "WEBHOOKS_CRM_URL": "ftp://crm.example.com/"])
        #expect(result.status == 78)
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.contains("webhooks.crm.url:") == true)
        #expect(result.lines.isEmpty)
    }

    static func rootConnection() throws -> MariaDBConnection {
        try MariaDBConnection(configuration: .init(
            endpoint: .unixSocket(path: try variable("AMIBRIDGE_DB_SOCKET")),
            username: try variable("AMIBRIDGE_DB_ROOT_USER"),
            password: ProcessInfo.processInfo.environment["AMIBRIDGE_DB_ROOT_PASSWORD"] ?? "",
            database: try variable("AMIBRIDGE_DB_NAME")
        ))
    }
}

extension CheckCommandTests {
    @Test("a state directory owned by another user is ✗ and left untouched", .enabled(if: getuid() == 0, "needs root to give the directory away"))
    func stateDirectoryOfAnotherUser() async throws {
        let state = NSTemporaryDirectory() + "amibridge-check-owner-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        try FileManager.default.setAttributes([.ownerAccountID: 65534], ofItemAtPath: state)
        let closed = try ClosedPort()
        let result = try await Self.check(["AMI_PORT": String(closed.port), "AMI_SECRET": "x", "STATE_DIR": state])
        #expect(result.status == 1)
        #expect(result.lines.contains { $0.hasPrefix("✗ state_dir: \(state) belongs to ") && $0.contains("run check as that user") }, "\(result.lines)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: state).isEmpty)
    }
}
