import AMIProtocol
import AMITestSupport
import CRMSink
import Foundation
import NIOCore
import NIOPosix
import Testing

/// The built `amibridge` binary, run as an operator runs it.
@Suite("amibridge executable")
struct DaemonProcessTests {
    /// `swift build --build-tests` puts the executable beside the test bundle.
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("amibridge")
    }

    static func launch(_ arguments: [String], environment: [String: String]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        // Only what the test sets: no AMI_* from the developer's shell leaks in.
        process.environment = ["PATH": "/usr/bin:/bin"]
            .merging(SanitizerEnvironment.forChildProcesses) { _, new in new }
            .merging(environment) { _, new in new }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        return (process, output, errors)
    }

    @Test("--help lists the subcommands")
    func help() async throws {
        let (process, output, _) = try Self.launch(["--help"], environment: [:])
        await ChildProcess.waitForExit(process)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0)
        #expect(text.contains("run"))
        #expect(text.contains("simulate"))
    }

    @Test("a bad value fails at start with one line naming the key", arguments: [
        (["AMI_PORT": "abc", "AMI_SECRET": "x"], "ami.port"),
        (["AMI_PORT": "70000", "AMI_SECRET": "x"], "ami.port"),
        ([:], "ami.secret"),
        (["AMI_SECRET": "x", "AMI_AUTH": "sha1"], "ami.auth"),
        (["AMI_SECRET": "x", "LOG_LEVEL": "loud"], "log.level"),
    ])
    func badConfiguration(environment: [String: String], key: String) async throws {
        let config = Self.exampleConfig.path
        let (process, _, errors) = try Self.launch(["run", "--config", config], environment: environment)
        await ChildProcess.waitForExit(process)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 78)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(text.contains("\(key):"))
        // The secret's value never shows, even in an error about it.
        #expect(!text.contains("=x"))
    }

    @Test("a listening port already taken fails the start with one line naming the setting", arguments: ["run", "receive"])
    func takenPort(command: String) async throws {
        // Another service listening where the daemon (api.listen) or the receiver (--port) wants to.
        let holder = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        defer { holder.close(promise: nil) }
        let port = try #require(holder.localAddress?.port)
        let ami = try ClosedPort()
        let (arguments, environment, setting) = command == "run"
            ? (["run", "--config", Self.exampleConfig.path], [
                "AMI_PORT": String(ami.port), "AMI_SECRET": "x", "API_LISTEN": "127.0.0.1:\(port)",
                "STATE_DIR": FileManager.default.temporaryDirectory.appendingPathComponent("amibridge-taken-\(UUID())").path,
            ], "api.listen")
            : (["receive", "--port", String(port)], [:], "--port")
        let (process, _, errors) = try Self.launch(arguments, environment: environment)
        defer { if process.isRunning { process.terminate() } }
        try await withDeadline(.seconds(30)) { await ChildProcess.waitForExit(process) }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 69) // EX_UNAVAILABLE
        #expect(text == "amibridge: \(setting) 127.0.0.1:\(port): cannot listen (Address already in use)\n")
    }

    static var exampleConfig: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Config/amibridge.example.yaml")
    }

    @Test("run logs in with the configured credentials, is ready, logs JSON without the secret, and logs off on SIGTERM")
    func runAndStop() async throws {
        let secret = "s3cret-\(UInt32.random(in: 0...UInt32.max))"
        try await FakeAMIServer.withServer(behavior: FakeAMIServer.asterisk { session in
            try await session.write("Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: CRMEvent\r\nlead_id: 42\r\n\r\n")
        }) { server in
            let (process, output, _) = try Self.launch(["run", "--config", Self.exampleConfig.path], environment: [
                "AMI_PORT": String(server.port), "AMI_USERNAME": "bridge", "AMI_SECRET": secret, "AMI_AUTH": "plain",
                "LOG_LEVEL": "debug", "API_LISTEN": "127.0.0.1:0", "STATE_DIR": FileManager.default.temporaryDirectory.appendingPathComponent("amibridge-run-\(UUID())").path,
            ])
            // Read log lines until the daemon reports the dialplan event the server sent after login.
            let lines = try await withDeadline(.seconds(30)) {
                var lines: [String] = []
                for await line in ChildProcess.lines(of: output.fileHandleForReading) {
                    lines.append(line)
                    if line.contains("CRMEvent") { break }
                }
                return lines
            }
            // The API's bound port, from its log line.
            let apiLine = try #require(lines.first { $0.contains("HTTP API listening") })
            let apiObject = try JSONSerialization.jsonObject(with: Data(apiLine.utf8)) as? [String: Any]
            let apiPort = try #require((apiObject?["port"] as? String).flatMap { Int($0) })
            // Logged in, state directory writable, no database configured: ready.
            let client = try CurlHTTPClient()
            let health = try client.perform(CurlHTTPRequest(method: "GET", url: "http://127.0.0.1:\(apiPort)/healthz"))
            #expect(health.status == 200)
            let ready = try client.perform(CurlHTTPRequest(method: "GET", url: "http://127.0.0.1:\(apiPort)/readyz"))
            let readiness = String(decoding: ready.body, as: UTF8.self)
            #expect(ready.status == 200, "readyz: \(readiness)")
            #expect(readiness.contains("ami:dialer1"))
            process.terminate() // SIGTERM
            await ChildProcess.waitForExit(process)
            #expect(process.terminationStatus == 0)

            let login = try #require(server.receivedActions.first?.first)
            #expect(login["Action"] == "Login")
            #expect(login["Username"] == "bridge")
            #expect(login["Secret"] == secret)
            #expect(server.receivedActions.first?.contains { $0["Action"] == "Logoff" } == true)
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["time"] != nil && object?["level"] != nil && object?["message"] != nil, "not a JSON log line: \(line)")
                #expect(!line.contains(secret))
            }
        }
    }
}
