import AMITestSupport
import Foundation
import MariaDB
import Testing
import ViciDialTestSupport

/// The seed tutorial's own client scripts (Tests/Fixtures/tutorial: bash with curl, PHP with
/// php-cli), unchanged but for host and key, against the built daemon, a fake Asterisk and the
/// private MariaDB: what a ViciDial shop that followed the tutorial runs on day one.
@Suite("the tutorial's scripts against the built daemon")
struct TutorialScriptsTests {
    static let fixtures = DeployFilesTests.root.appendingPathComponent("Tests/Fixtures/tutorial")

    /// A copy of the script `name` in `directory` with only its host and key lines changed.
    static func script(_ name: String, host: String, key: String, in directory: String) throws -> String {
        var text = try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
        let replacements: [(String, String)] = [
            (#"VICI_HOST="http://vicidial.example.com""#, #"VICI_HOST="\#(host)""#),
            (#"API_PASS="apipass""#, #"API_PASS="\#(key)""#),
            (#"$host = "http://vicidial.example.com";"#, #"$host = "\#(host)";"#),
            (#"$pass = "apipass";"#, #"$pass = "\#(key)";"#),
        ]
        var changed = 0
        for (old, new) in replacements where text.contains(old) {
            text = text.replacingOccurrences(of: old, with: new)
            changed += 1
        }
        #expect(changed == 2, "\(name): host and key lines not found as the tutorial writes them")
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `command` to its end: exit status and stdout + stderr.
    static func run(_ command: [String], in directory: String) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let lines = await LineLog(ChildProcess.lines(of: pipe.fileHandleForReading)).all()
        await ChildProcess.waitForExit(process)
        return (process.terminationStatus, lines.joined(separator: "\n"))
    }

    @Test("click2call.sh places the call, get_agent_status.php prints the agent's state, add_leads.sh imports every line")
    func scripts() async throws {
        let driver = try ViciDialTestDriver()
        let agent = ViciDialTestDriver.user()
        let phoneLogin = "p" + String(agent.dropFirst())
        let phoneExtension = "tut\(agent.suffix(4))"
        try await driver.insertUser(agent, phoneLogin: phoneLogin)
        try await driver.insertPhone(login: phoneLogin, extension: phoneExtension)
        try await driver.loginAgent(agent, status: "INCALL", campaign: "SALES")
        let now = Int(Date().timeIntervalSince1970)
        try await driver.insertAgentLog(user: agent, leadID: 9, campaign: "SALES", uniqueid: "\(now).1", talkEpoch: now, talkSeconds: 95, deadSeconds: 5)

        let work = NSTemporaryDirectory() + "amibridge-tutorial-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let created = try await ProcessUnderTest.run(["keys", "create", "--state-dir", work, "--name", "tutorial"], environment: [:])
        let key = try #require(created.lines.first, "\(created.errors)")

        try await FakeAMIServer.withServer(behavior: FakeAMIServer.queuingOriginates(reportingSuccess: true)) { server in
            let environment = GatedReplay.amiEnvironment(port: server.port)
                .merging(try CheckCommandTests.databaseEnvironment()) { _, new in new }
                .merging(["STATE_DIR": work, "API_LISTEN": "127.0.0.1:0"]) { _, new in new }
            let daemon = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: environment)
            defer { daemon.process.terminate() }
            try await withDeadline(.seconds(90)) {
                let host = "http://127.0.0.1:\(try await daemon.apiPort())"
                try await daemon.line(containing: "AMI logged in")

                // Click-to-call: SUCCESS, and the agent's phone is what Asterisk is asked to ring.
                let call = try await Self.run(["bash", try Self.script("click2call.sh", host: host, key: key, in: work), agent, "8005550142"], in: work)
                #expect(call.status == 0, "\(call.output)")
                #expect(call.output.hasSuffix("Call placed"), "\(call.output)")
                let originate = try #require(server.receivedActions.flatMap { $0 }.first { $0["Action"] == "Originate" })
                #expect(originate["Channel"] == "SIP/\(phoneExtension)")
                #expect(originate["Exten"] == "8005550142")

                // Agent status: the PHP prints $status['status'] as the agent's state.
                let status = try await Self.run(["php", try Self.script("get_agent_status.php", host: host, key: key, in: work), agent], in: work)
                #expect(status.status == 0, "\(status.output)")
                #expect(status.output == "Agent \(agent) is INCALL\nCalls today: 1\nTalk time: 90 seconds", "\(status.output)")
                // An unknown agent: the script's own error branch (status=ERROR, message).
                let unknown = try await Self.run(["php", try Self.script("get_agent_status.php", host: host, key: key, in: work), "ghost" + agent], in: work)
                #expect(unknown.status == 1)
                #expect(unknown.output.hasPrefix("Error: agent_user 'ghost\(agent)' is not a ViciDial user"), "\(unknown.output)")

                // The batch import: GET with the parameters in a form body, campaign_id included.
                let phones = (0..<3).map { _ in TestDatabase.uniquePhoneNumber() }
                let csv = zip(phones, ["Ann", "Bo Lee", "Zoë"]).map { "\($0),\($1),Tutorial" }.joined(separator: "\n") + "\n"
                try csv.write(toFile: work + "/leads.csv", atomically: true, encoding: .utf8)
                let leads = try await Self.run(["bash", try Self.script("add_leads.sh", host: host, key: key, in: work), "leads.csv"], in: work)
                #expect(leads.status == 0)
                let answers = leads.output.split(separator: "\n")
                #expect(answers.count == 3 && answers.allSatisfy { $0.hasPrefix("status=SUCCESS&result=add_lead&lead_id=") }, "\(leads.output)")
                for (phone, first) in zip(phones, ["Ann", "Bo Lee", "Zoë"]) {
                    let rows = try await driver.root.query("SELECT first_name, last_name, list_id FROM vicidial_list WHERE phone_number = ?", [.string(phone)])
                    #expect(rows.count == 1, "\(phone)")
                    #expect(try rows.first?.string("first_name") == first)
                    #expect(try rows.first?.string("last_name") == "Tutorial")
                    #expect(try rows.first?.int("list_id") == 101)
                }
            }
            await daemon.stop()
        }
    }
}
