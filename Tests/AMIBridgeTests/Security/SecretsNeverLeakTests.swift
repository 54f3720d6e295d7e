import AMITestSupport
import CRMSink
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import ViciDial

/// The built daemon and its commands, given distinctive secrets (AMI secret, ViciDial password,
/// webhook endpoint secret, an API key), driven through every path that logs or answers: rejected
/// AMI logins (plain and MD5), database failures, failing webhook endpoints, `check`, the API's
/// health, metrics and error bodies, `outbox list` and `keys list`. Nothing any process writes or
/// answers contains a secret, raw, URL-encoded or base64-encoded.
@Suite("Secrets never leak", .serialized)
struct SecretsNeverLeakTests {
    /// Every line and body the test saw, labelled by where it came from.
    final class Transcript: Sendable {
        private let parts = NIOLockedValueBox<[(label: String, text: String)]>([])

        func add(_ label: String, _ lines: [String]) { add(label, lines.joined(separator: "\n")) }

        func add(_ label: String, _ text: String) { parts.withLockedValue { $0.append((label, text)) } }

        func add(_ label: String, _ process: ProcessUnderTest) {
            add(label + " stdout", process.output.lines)
            add(label + " stderr", process.errors.lines)
        }

        var all: [(label: String, text: String)] { parts.withLockedValue { $0 } }
    }

    /// The forms a secret could take in a log line, URL or header.
    static func forms(of secret: String) -> [String] {
        var forms = [secret, Data(secret.utf8).base64EncodedString()]
        forms.append(Data(secret.utf8).base64EncodedString().trimmingCharacters(in: ["="]))
        if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { forms.append(encoded) }
        if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) { forms.append(encoded) }
        return Array(Set(forms))
    }

    /// Where each secret shows, in any of its forms: "<name> (as <form>) in <label>".
    static func leaks(in parts: [(label: String, text: String)], secrets: [String: String]) -> [String] {
        var found: [String] = []
        for (name, secret) in secrets.sorted(by: { $0.key < $1.key }) {
            for form in forms(of: secret) {
                for part in parts where part.text.contains(form) {
                    found.append("\(name) (as \(form)) in \(part.label):\n\(part.text.prefix(2000))")
                }
            }
        }
        return found
    }

    static func expectNoLeak(_ transcript: Transcript, secrets: [String: String]) {
        let parts = transcript.all
        #expect(parts.count > 20, "the test saw too little to mean anything: \(parts.map(\.label))")
        for leak in leaks(in: parts, secrets: secrets) {
            Issue.record("secret leaked: \(leak)")
        }
    }

    @Test("the leak finder sees a secret raw, URL-encoded and base64-encoded")
    func leakFinderFindsEveryForm() {
        let secret = Self.secret("probe")
        let planted = [
            ("raw", "error: login failed with \(secret)"),
            ("url", "GET /hooks?token=\(secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"),
            ("base64", "Authorization: Basic \(Data(secret.utf8).base64EncodedString())"),
        ]
        for (label, text) in planted {
            #expect(Self.leaks(in: [(label, text)], secrets: ["probe": secret]).count >= 1, "\(label)")
        }
        #expect(Self.leaks(in: [("clean", "nothing here")], secrets: ["probe": secret]).isEmpty)
    }

    /// A distinctive secret with characters that change under URL and base64 encoding.
    static func secret(_ prefix: String) -> String {
        "\(prefix)+S3cr/et=\(UInt32.random(in: 0...UInt32.max))"
    }

    /// A "CRM" answering every connection with a fixed reply, then hanging up.
    static func fixedReplyServer(_ reply: String) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.writeAndFlush(ByteBuffer(string: reply)).flatMap { channel.close() }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    /// Asterisk that answers the MD5 Challenge and then refuses the login.
    static let rejectingMD5: FakeAMIServer.Behavior = { session in
        try await session.write("Asterisk Call Manager/9.0.0\r\n")
        while let action = try await session.nextAction() {
            let id = action.actionID.map { "ActionID: \($0)\r\n" } ?? ""
            switch action["Action"]?.lowercased() {
            case "challenge":
                try await session.write("Response: Success\r\n\(id)Challenge: 840193217\r\n\r\n")
            case "login":
                try await session.write("Response: Error\r\n\(id)Message: Authentication failed\r\n\r\n")
                return
            default:
                guard try await session.answerGenerically(action) else { return }
            }
        }
    }

    static func http(_ client: CurlHTTPClient, _ method: String, _ url: String, key: String? = nil, body: String = "", transcript: Transcript) throws -> Int {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let key { headers.append(("Authorization", "Bearer \(key)")) }
        let response = try client.perform(CurlHTTPRequest(method: method, url: url, headers: headers, body: Array(body.utf8)))
        let headerText = response.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
        transcript.add("\(method) \(url) → \(response.status)", headerText + "\n\n" + String(decoding: response.body, as: UTF8.self))
        return response.status
    }

    /// Waits until a daemon whose AMI login and ViciDial database both fail has logged both
    /// (readiness asks the database, which logs why it does not answer); its API client and port.
    static func awaitLoginAndDatabaseRefused(_ daemon: ProcessUnderTest, transcript: Transcript) async throws -> (CurlHTTPClient, Int) {
        let port = try await daemon.apiPort()
        let login = try? await daemon.output.first(within: .seconds(60)) { $0.contains("AMI login rejected") }
        try #require(login != nil, "no login rejection: \(daemon.output.lines.suffix(30).joined(separator: "\n")) \(daemon.errors.lines)")
        let client = try CurlHTTPClient()
        #expect(try http(client, "GET", "http://127.0.0.1:\(port)/readyz", transcript: transcript) == 503)
        let database = try? await daemon.output.first(within: .seconds(60)) { $0.contains("ViciDial database not answering") }
        try #require(database != nil, "no database failure: \(daemon.output.lines.suffix(30).joined(separator: "\n")) \(daemon.errors.lines)")
        return (client, port)
    }

    @Test("no secret in any output, log line, HTTP answer or command listing")
    func noSecretAnywhere() async throws {
        let transcript = Transcript()
        let amiSecret = Self.secret("ami")
        let dbPassword = Self.secret("db")
        let wrongDBPassword = Self.secret("wrongdb")
        let webhookSecret = Self.secret("hook")
        let state = NSTemporaryDirectory() + "amibridge-leak-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: state) }
        let config = DaemonProcessTests.exampleConfig.path

        // A database user of our own with a distinctive password.
        let user = "amib_leak_\(UInt32.random(in: 0...UInt32.max))"
        let root = try CheckCommandTests.rootConnection()
        _ = try root.execute("CREATE USER '\(user)'@'localhost' IDENTIFIED BY '\(dbPassword)'")
        defer { _ = try? root.execute("DROP USER '\(user)'@'localhost'") }
        let database = try CheckCommandTests.variable("AMIBRIDGE_DB_NAME")
        for table in ViciDialRepository.tablesRead {
            _ = try root.execute("GRANT SELECT ON `\(database)`.`\(table)` TO '\(user)'@'localhost'")
        }
        let socket = try CheckCommandTests.variable("AMIBRIDGE_DB_SOCKET")
        let goodDatabase = ["VICIDIAL_DB_SOCKET": socket, "VICIDIAL_DB_USER": user, "VICIDIAL_DB_PASSWORD": dbPassword, "VICIDIAL_DB_NAME": database]

        // An API key; `create` prints it once on stdout, which is the one place it may appear.
        let created = try await ProcessUnderTest.run(["keys", "create", "--state-dir", state, "--name", "leak-test"], environment: [:])
        #expect(created.status == 0)
        let apiKey = try #require(created.lines.first)
        transcript.add("keys create stderr", created.errors)
        let keySecret = String(try #require(apiKey.split(separator: "_").last))
        #expect(keySecret.count >= 32, "the key's secret part: \(apiKey)")

        // Three failing CRMs: refusing, 500, garbage.
        let refusing = try ClosedPort()
        let failing = try await Self.fixedReplyServer("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\nConnection: close\r\n\r\noops!")
        defer { failing.close(promise: nil) }
        let garbage = try await Self.fixedReplyServer("garbage\r\n\r\n")
        defer { garbage.close(promise: nil) }
        let endpoints: [String: String] = [
            "WEBHOOKS_ENDPOINTS": "refusing,failing,garbage",
            "WEBHOOKS_REFUSING_URL": "http://127.0.0.1:\(refusing.port)/hooks?token=\(webhookSecret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
            "WEBHOOKS_FAILING_URL": "http://127.0.0.1:\(failing.localAddress!.port!)/hooks",
            "WEBHOOKS_GARBAGE_URL": "http://127.0.0.1:\(garbage.localAddress!.port!)/hooks",
            "WEBHOOKS_REFUSING_SECRET": webhookSecret, "WEBHOOKS_FAILING_SECRET": webhookSecret, "WEBHOOKS_GARBAGE_SECRET": webhookSecret,
            "WEBHOOKS_REFUSING_BACKOFF_INITIAL_MS": "20", "WEBHOOKS_FAILING_BACKOFF_INITIAL_MS": "20", "WEBHOOKS_GARBAGE_BACKOFF_INITIAL_MS": "20",
        ]
        let base = ["STATE_DIR": state, "API_LISTEN": "127.0.0.1:0", "AMI_USERNAME": "bridge", "AMI_SECRET": amiSecret, "LOG_LEVEL": "trace"]

        // 1. Logged in, twenty calls, every webhook failing; the API asked everything. The replayed
        // session only accepts its recorded secret, so that one must not leak either.
        let recordedAMISecret = "s3cret-AMI"
        let burst = CaptureReplay(try AMICapture.load("asterisk-20", "burst-20-calls"), chunking: .recorded, waitForActions: false)
        try await FakeAMIServer.withServer(behavior: { session in
            if session.index == 0 { try await burst.behavior(&session) } else { try await FakeAMIServer.asterisk()(&session) }
        }) { server in
            let daemon = try ProcessUnderTest(["run", "--config", config], environment: base.merging(goodDatabase) { _, new in new }
                .merging(endpoints) { _, new in new }
                .merging(["AMI_PORT": String(server.port), "AMI_AUTH": "plain", "AMI_SECRET": recordedAMISecret, "VICIDIAL_ROW_WAIT_SECONDS": "0"]) { _, new in new })
            defer { daemon.process.terminate() }
            let port = try await daemon.apiPort()
            for endpoint in ["refusing", "failing", "garbage"] {
                let failed = try? await daemon.output.first(within: .seconds(60)) { $0.contains("delivery failed") && $0.contains("\"\(endpoint)\"") }
                try #require(failed != nil, "no failed delivery to \(endpoint): \(daemon.output.lines.suffix(30).joined(separator: "\n")) \(daemon.errors.lines)")
            }
            let client = try CurlHTTPClient()
            let api = "http://127.0.0.1:\(port)"
            #expect(try Self.http(client, "GET", "\(api)/healthz", transcript: transcript) == 200)
            _ = try Self.http(client, "GET", "\(api)/readyz", transcript: transcript)
            #expect(try Self.http(client, "GET", "\(api)/metrics", transcript: transcript) == 200)
            #expect(try Self.http(client, "GET", "\(api)/v1/ping", key: apiKey, transcript: transcript) == 200)
            #expect(try Self.http(client, "GET", "\(api)/v1/ping", key: "amib_000000000000_" + String(repeating: "0", count: 64), transcript: transcript) == 401)
            #expect(try Self.http(client, "GET", "\(api)/v1/ping", key: apiKey + "x", transcript: transcript) == 401)
            #expect(try Self.http(client, "GET", "\(api)/v1/ping", key: String(apiKey.dropLast()), transcript: transcript) == 401)
            #expect(try Self.http(client, "POST", "\(api)/v1/calls", key: apiKey, body: "{not json", transcript: transcript) == 400)
            #expect(try Self.http(client, "POST", "\(api)/v1/calls", key: apiKey, body: "{\"agent_phone\": \"not a phone\"}", transcript: transcript) == 400)
            #expect(try Self.http(client, "GET", "\(api)/v1/no-such-route", key: apiKey, transcript: transcript) == 404)
            _ = try Self.http(client, "GET", "\(api)/agc/api.php?function=version&api_key=wrong", transcript: transcript)
            _ = try Self.http(client, "GET", "\(api)/agc/api.php?function=version&api_key=\(apiKey)", transcript: transcript)
            await daemon.stop()
            transcript.add("run (calls, failing webhooks)", daemon)
        }
        // 2. MD5 login refused; the database password wrong (TCP).
        try await FakeAMIServer.withServer(behavior: Self.rejectingMD5) { server in
            let daemon = try ProcessUnderTest(["run", "--config", config], environment: base.merging([
                "AMI_PORT": String(server.port), "AMI_AUTH": "md5",
                "VICIDIAL_DB_HOST": try CheckCommandTests.variable("AMIBRIDGE_DB_HOST"), "VICIDIAL_DB_PORT": try CheckCommandTests.variable("AMIBRIDGE_DB_PORT"),
                "VICIDIAL_DB_USER": user, "VICIDIAL_DB_PASSWORD": wrongDBPassword, "VICIDIAL_DB_NAME": database,
            ]) { _, new in new })
            defer { daemon.process.terminate() }
            let (client, port) = try await Self.awaitLoginAndDatabaseRefused(daemon, transcript: transcript)
            _ = try Self.http(client, "GET", "http://127.0.0.1:\(port)/metrics", transcript: transcript)
            await daemon.stop()
            transcript.add("run (MD5 refused, wrong DB password)", daemon)
            // The MD5 path was taken: a Challenge, then a Login with a Key and no Secret.
            let actions = server.receivedActions.flatMap { $0 }
            #expect(actions.contains { $0["Action"] == "Challenge" })
            #expect(actions.contains { $0["Action"] == "Login" && $0["Key"] != nil && $0["Secret"] == nil })
        }

        // 3. Plain login refused; the database socket unreachable.
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.rejectingLogin) { server in
            let daemon = try ProcessUnderTest(["run", "--config", config], environment: base.merging([
                "AMI_PORT": String(server.port), "AMI_AUTH": "plain",
                "VICIDIAL_DB_SOCKET": state + "/no-such.sock", "VICIDIAL_DB_USER": user, "VICIDIAL_DB_PASSWORD": dbPassword,
            ]) { _, new in new })
            defer { daemon.process.terminate() }
            _ = try await Self.awaitLoginAndDatabaseRefused(daemon, transcript: transcript)
            await daemon.stop()
            transcript.add("run (plain refused, no DB socket)", daemon)
        }

        // 4. check: everything passing, then everything failing.
        let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: webhookSecret)
        defer { receiver.process.terminate() }
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.asterisk()) { server in
            let passing = try await ProcessUnderTest.run(["check", "--config", config, "--timeout", "60"], environment: base.merging(goodDatabase) { _, new in new }.merging([
                "AMI_PORT": String(server.port), "AMI_AUTH": "plain", "WEBHOOKS_ENDPOINTS": "crm",
                "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiverPort)/hooks?token=\(webhookSecret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
                "WEBHOOKS_CRM_SECRET": webhookSecret,
            ]) { _, new in new })
            #expect(passing.status == 0, "\(passing.lines) \(passing.errors)")
            transcript.add("check (passing) stdout", passing.lines)
            transcript.add("check (passing) stderr", passing.errors)
        }
        try await FakeAMIServer.withServer(behavior: Self.rejectingMD5) { server in
            let failing = try await ProcessUnderTest.run(["check", "--config", config, "--timeout", "60"], environment: base.merging(endpoints) { _, new in new }.merging([
                "AMI_PORT": String(server.port), "AMI_AUTH": "md5",
                "VICIDIAL_DB_SOCKET": socket, "VICIDIAL_DB_USER": user, "VICIDIAL_DB_PASSWORD": wrongDBPassword, "VICIDIAL_DB_NAME": database,
            ]) { _, new in new })
            #expect(failing.status == 1, "\(failing.lines) \(failing.errors)")
            #expect(failing.lines.filter { $0.hasPrefix("✗ ") }.count >= 5, "\(failing.lines)")
            transcript.add("check (failing) stdout", failing.lines)
            transcript.add("check (failing) stderr", failing.errors)
        }
        // A configuration error about the secret itself.
        let badSecret = try await ProcessUnderTest.run(["check", "--config", config], environment: ["AMI_SECRET": "", "VICIDIAL_DB_PASSWORD": dbPassword, "VICIDIAL_DB_SOCKET": socket])
        #expect(badSecret.status == 78)
        transcript.add("check (config error)", badSecret.errors + badSecret.lines)
        receiver.process.terminate()
        await ChildProcess.waitForExit(receiver.process)
        transcript.add("receive", receiver)

        // 5. The operator's listings.
        for arguments in [["outbox", "list", "--state-dir", state], ["outbox", "list", "--state-dir", state, "--state", "all"],
                          ["keys", "list", "--state-dir", state]] {
            let listed = try await ProcessUnderTest.run(arguments, environment: [:])
            #expect(listed.status == 0, "\(arguments): \(listed.errors)")
            transcript.add(arguments.joined(separator: " "), listed.lines + listed.errors)
        }
        #expect(transcript.all.contains { $0.label.hasPrefix("outbox list") && $0.text.contains("failing") }, "the outbox shows the failing deliveries")

        // The paths were really taken: their traces are in what was collected.
        let everything = transcript.all.map(\.text).joined(separator: "\n")
        for trace in ["delivery failed; will retry", "AMI login rejected", "ViciDial database not answering",
                      "unauthorized", "not_found", "✗ ami:dialer1", "✗ vicidial_db", "✗ webhook:failing", "✓ vicidial_db", "leak-test", "amibridge_"] {
            #expect(everything.contains(trace), "nothing collected shows \(trace)")
        }
        Self.expectNoLeak(transcript, secrets: [
            "AMI secret": amiSecret, "recorded AMI secret": recordedAMISecret, "ViciDial DB password": dbPassword, "wrong ViciDial DB password": wrongDBPassword,
            "webhook secret": webhookSecret, "API key": apiKey, "API key secret": keySecret,
        ])
    }
}
