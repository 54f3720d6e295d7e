import AMITestSupport
import Foundation
import Testing

/// Every key of `Config/amibridge.example.yaml` given a value of the wrong type or out of range,
/// plus unknown keys and broken files: `run` and `check` of the built binary each exit 78 with
/// exactly one stderr line naming the key, never a crash, a hang or a silent default.
@Suite("Configuration fuzz")
struct ConfigFuzzTests {
    /// One bad configuration and the text its error line must name.
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var file: FileContent
        var names: String
        var description: String { name }
    }

    enum FileContent: Sendable {
        case yaml(String)
        case bytes([UInt8])
        case directory
        case missing
    }

    /// The example file's keys and values, plus one extra AMI server, one endpoint and the
    /// database host, so that their sections are read too.
    static func baseValues() throws -> [(key: String, value: String)] {
        var values = try ExampleConfiguration.keyValues()
        values.append(("ami.extra_servers", "[dialer2]"))
        values.removeAll { $0.key == "ami.extra_servers" && $0.value == "[]" }
        values.append(("ami.dialer2.host", "127.0.0.2"))
        values.removeAll { $0.key == "webhooks.endpoints" }
        values.append(("webhooks.endpoints", "[crm1]"))
        values += [
            ("webhooks.crm1.url", "https://crm.example.com/hooks"), ("webhooks.crm1.events", "[call_answered, call_complete]"),
            ("webhooks.crm1.campaigns", "[]"), ("webhooks.crm1.format", "json"), ("webhooks.crm1.timeout_ms", "10000"),
            ("webhooks.crm1.connect_timeout_ms", "5000"), ("webhooks.crm1.max_attempts", "20"), ("webhooks.crm1.max_age_ms", "86400000"),
            ("webhooks.crm1.backoff_initial_ms", "1000"), ("webhooks.crm1.backoff_max_ms", "300000"),
            ("webhooks.crm1.verify_tls", "true"), ("webhooks.crm1.follow_redirects", "false"),
            ("vicidial.db.host", "127.0.0.1"), ("click_to_call.server", "dialer1"),
        ]
        return values
    }

    /// Values that are wrong for a key whatever its kind, and the ones wrong for its kind.
    static func badValues(key: String, example: String) -> [String] {
        var bad = ["{nested: 1}"] // a map where a value (or list) belongs
        if example.hasPrefix("[") {
            return bad
        }
        bad.append("[1, 2]") // a list where one value belongs
        if Int(example) != nil {
            bad += ["abc", "-1", "1000000000000", "1.5", "true"]
            if key.hasSuffix("_ms") && !key.hasSuffix("max_age_ms") { bad.append("0") }
        } else if example == "true" || example == "false" {
            bad += ["maybe", "5"]
        }
        bad += specificBadValues[String(key.split(separator: ".").suffix(from: key.hasPrefix("webhooks.crm1.") ? 2 : 0).joined(separator: "."))] ?? []
        bad += specificBadValues[key] ?? []
        return bad
    }

    static let specificBadValues: [String: [String]] = [
        "ami.name": ["'has space'", "''"], "ami.auth": ["sha1"], "ami.overflow": ["dropAll"],
        "state_dir": ["''"],
        "url": ["ftp://crm.example.com/", "not a url", "''"], "format": ["xml"], "events": ["[call_started]"],
        "api.listen": ["nope", "127.0.0.1:70000", "127.0.0.1:-1", "::1:8088"], "api.cors_origins": ["[crm.example.com]"],
        "api.ip_allowlist": ["[10.0.0.0/33]", "[not-an-ip]"],
        "click_to_call.agent_channel": ["SIP/1001", "'SIP/{extension} x'"], "click_to_call.context": ["'bad context!'"],
        "click_to_call.dial_prefix": ["9a"], "click_to_call.caller_id": ["abc"], "click_to_call.server": ["dialer9"],
        "log.level": ["loud", "INFO"], "log.format": ["xml"],
    ]

    static func cases() throws -> [Case] {
        let base = try baseValues()
        var cases: [Case] = []
        for (index, entry) in base.enumerated() {
            for bad in badValues(key: entry.key, example: entry.value) {
                var values = base
                values[index].value = bad
                cases.append(Case(name: "\(entry.key): \(bad)", file: .yaml(ExampleConfiguration.render(values)), names: entry.key))
            }
        }
        for section in ["log", "api", "click_to_call"] {
            let values = base.filter { !$0.key.hasPrefix(section + ".") } + [(section, "5")]
            cases.append(Case(name: "a value for the section \(section)", file: .yaml(ExampleConfiguration.render(values)), names: "\(section): is a section"))
        }
        for typo in ["ami.hots", "webhooks.crm1.ulr", "api.listne", "log.levle", "webhooks.crm9.url", "stat_dir", "ami.dialer3.host"] {
            cases.append(Case(name: "unknown key \(typo)", file: .yaml(ExampleConfiguration.render(base + [(typo, "x")])), names: typo + ": unknown key"))
        }
        cases += [
            Case(name: "empty file", file: .yaml(""), names: "empty"),
            Case(name: "blank file", file: .yaml("\n  \n"), names: "empty"),
            Case(name: "random bytes", file: .bytes((0..<512).map { _ in UInt8.random(in: 0...255) } + [0xFF, 0xFE]), names: "configuration"),
            Case(name: "YAML syntax error", file: .yaml("ami:\n  port: [5038\n  host: \"x\n"), names: "YAML"),
            Case(name: "a list at the top", file: .yaml("- ami\n- port\n"), names: "YAML"),
            Case(name: "a directory", file: .directory, names: "is a directory"),
            Case(name: "a missing file", file: .missing, names: "no such configuration file"),
        ]
        return cases
    }

    @Test("every bad key, value and file: exit 78 and one line naming it, for run and check")
    func everyBadConfiguration() async throws {
        let cases = try Self.cases()
        let directory = NSTemporaryDirectory() + "amibridge-fuzz-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(cases.count > 150, "the example file's keys were not all found: \(cases.count) cases")

        var work: [(Case, String, String)] = []
        for (index, testCase) in cases.enumerated() {
            let path = "\(directory)/\(index).yaml"
            switch testCase.file {
            case .yaml(let text): try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            case .bytes(let bytes): try Data(bytes).write(to: URL(fileURLWithPath: path))
            case .directory: try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            case .missing: break
            }
            work.append((testCase, path, "run"))
            work.append((testCase, path, "check"))
        }
        // Nothing the cases set: the environment would override the file.
        let environment = ["AMI_SECRET": "fuzz-secret-\(UUID())"]
        let results = try await BoundedProcessRuns.run(work.map { testCase, path, command in
            [command, "--config", path] + (command == "check" ? ["--timeout", "2"] : [])
        }, environment: environment, concurrency: 4, limit: .seconds(20))
        for ((testCase, _, command), result) in zip(work, results) {
            let context = "\(command) with \(testCase): status \(result.status) (\(result.reason)), stderr \(result.errors), stdout \(result.lines.prefix(3))"
            #expect(result.reason == .exit, "crashed or hung: \(context)")
            #expect(result.status == 78, "\(context)")
            #expect(result.errors.count == 1, "\(context)")
            #expect(result.errors.first?.contains(testCase.names) == true, "\(context)")
            #expect(result.errors.first?.hasPrefix("amibridge: configuration error: ") == true, "\(context)")
            #expect(!(result.errors + result.lines).joined().contains(environment["AMI_SECRET"]!), "\(context)")
        }
    }

    @Test("an unknown key suggests the nearest known one")
    func unknownKeySuggestion() async throws {
        let base = try Self.baseValues()
        let path = NSTemporaryDirectory() + "amibridge-fuzz-typo-\(UUID()).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(ExampleConfiguration.render(base + [("webhooks.crm1.ulr", "https://x/")]).utf8).write(to: URL(fileURLWithPath: path))
        let result = try await BoundedProcessRuns.run([["run", "--config", path]], environment: ["AMI_SECRET": "x"], concurrency: 1, limit: .seconds(30))[0]
        #expect(result.status == 78)
        #expect(result.errors == ["amibridge: configuration error: webhooks.crm1.ulr: unknown key; did you mean webhooks.crm1.url?"])
    }

    @Test("the example file itself loads (the base of every case is valid)")
    func exampleIsValid() async throws {
        let path = NSTemporaryDirectory() + "amibridge-fuzz-base-\(UUID()).yaml"
        let state = NSTemporaryDirectory() + "amibridge-fuzz-base-state-\(UUID())"
        defer { try? FileManager.default.removeItem(atPath: path); try? FileManager.default.removeItem(atPath: state) }
        try Data(ExampleConfiguration.render(try Self.baseValues()).utf8).write(to: URL(fileURLWithPath: path))
        // check reaches its checks (exit 1: nothing listens) instead of a configuration error.
        let result = try await BoundedProcessRuns.run([["check", "--config", path, "--timeout", "2"]], environment: [
            "AMI_SECRET": "x", "STATE_DIR": state, "VICIDIAL_DB_USER": "u", "AMI_PORT": String(try ClosedPort().port),
        ], concurrency: 1, limit: .seconds(60))[0]
        #expect(result.status == 1, "\(result.errors) \(result.lines)")
        #expect(result.lines.contains { $0.hasPrefix("✓ state_dir") }, "\(result.lines)")
    }
}
