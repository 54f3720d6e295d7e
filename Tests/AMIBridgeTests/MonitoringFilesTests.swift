import AMITestSupport
import Foundation
import Testing

/// deploy/grafana-dashboard.json and deploy/prometheus-alerts.yml stay in step with `/metrics`:
/// every series and label they query is one the daemon really exports (a renamed metric would
/// otherwise leave a blank panel and an alert that can never fire), and the rules pass
/// `promtool check rules` and their own unit tests.
@Suite("deploy/ monitoring files")
struct MonitoringFilesTests {
    static let alertsPath = "deploy/prometheus-alerts.yml"
    static let alertTestsPath = "deploy/prometheus-alerts.test.yml"
    static let dashboardPath = "deploy/grafana-dashboard.json"

    /// One PromQL expression and the labels its text says it uses (matchers, `by`/`without`,
    /// legend `{{label}}`, annotation `$labels.label`).
    struct Query: CustomStringConvertible {
        let source: String
        let expression: String
        var labels: Set<String>
        var description: String { "\(source): \(expression)" }
    }

    // MARK: Reading the files

    static func alertQueries() throws -> [Query] {
        let text = try DeployFilesTests.text(alertsPath)
        // One rule per `- alert:` block; its expression is the `expr:` line, its labels also
        // those its annotations print.
        return try text.components(separatedBy: "- alert:").dropFirst().map { rule in
            let name = rule.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "?"
            let expression = try #require(try DeployFilesTests.matches(#"(?m)^\s*expr:\s*(.+)$"#, in: rule).first?.first, "\(name) has no expr")
            let printed = try DeployFilesTests.matches(#"\$labels\.([a-z_]+)"#, in: rule).map { $0[0] }
            return Query(source: "alert \(name)", expression: expression, labels: try labels(in: expression).union(printed))
        }
    }

    static func dashboardQueries() throws -> [Query] {
        let data = try Data(contentsOf: DeployFilesTests.root.appendingPathComponent(dashboardPath))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var queries: [Query] = []
        for panel in dashboard["panels"] as? [[String: Any]] ?? [] {
            let title = panel["title"] as? String ?? "?"
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                let expression = try #require(target["expr"] as? String, "panel \(title)")
                let legend = try DeployFilesTests.matches(#"\{\{\s*([a-z_]+)\s*\}\}"#, in: target["legendFormat"] as? String ?? "").map { $0[0] }
                queries.append(Query(source: "panel \(title)", expression: expression, labels: try labels(in: expression).union(legend)))
            }
        }
        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        for variable in variables {
            let definition = try #require(variable["definition"] as? String)
            // label_values(metric, label)
            let parts = try DeployFilesTests.matches(#"label_values\((\w+),\s*(\w+)\)"#, in: definition)
            let part = try #require(parts.first, "variable \(variable["name"] ?? "?"): \(definition)")
            queries.append(Query(source: "variable \(variable["name"] ?? "?")", expression: part[0], labels: [part[1]]))
        }
        return queries
    }

    /// Labels an expression names: `{label=...}` matchers and `by (...)`/`without (...)` lists.
    static func labels(in expression: String) throws -> Set<String> {
        var labels = Set(try DeployFilesTests.matches(#"[{,]\s*([a-z_]+)\s*(?:=~|!~|!=|=)"#, in: expression).map { $0[0] })
        for list in try DeployFilesTests.matches(#"\b(?:by|without)\s*\(([^)]*)\)"#, in: expression) {
            labels.formUnion(list[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        return labels
    }

    // MARK: Reading a scrape

    /// Each metric family of an exposition with its type and every label its samples carry.
    struct Exposition {
        var types: [String: String] = [:]
        var labels: [String: Set<String>] = [:]

        init(_ text: String) throws {
            for line in text.split(separator: "\n") {
                if line.hasPrefix("# TYPE ") {
                    let parts = line.split(separator: " ")
                    if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
                } else if !line.hasPrefix("#"), let name = line.split(whereSeparator: { $0 == "{" || $0 == " " }).first {
                    let names = try DeployFilesTests.matches(#"([a-z_]+)=""#, in: String(line)).map { $0[0] }
                    labels[String(name), default: []].formUnion(names)
                }
            }
        }

        /// The family a series name in a query belongs to: itself, or the histogram whose
        /// `_bucket`/`_sum`/`_count` it is.
        func family(of series: String) -> String? {
            if types[series] != nil { return series }
            for suffix in ["_bucket", "_sum", "_count"] where series.hasSuffix(suffix) {
                let base = String(series.dropLast(suffix.count))
                if types[base] == "histogram" { return base }
            }
            return nil
        }
    }

    /// Every `amibridge_` series a query names must be a family of the scrape, and every label the
    /// query uses must be on the samples of one of those series (`le` only on a `_bucket`).
    static func unexported(_ queries: [Query], in exposition: Exposition) throws -> [String] {
        var problems: [String] = []
        for query in queries {
            let series = Set(try DeployFilesTests.matches(#"\b(amibridge_[a-z_]+)\b"#, in: query.expression).map { $0[0] })
            if series.isEmpty { problems.append("\(query): names no amibridge series") }
            var carried: Set<String> = []
            for name in series {
                guard exposition.family(of: name) != nil else {
                    problems.append("\(query): \(name) is not exported")
                    continue
                }
                carried.formUnion(exposition.labels[name] ?? [])
            }
            for label in query.labels.subtracting(carried) {
                problems.append("\(query): label \(label) is on none of \(series.sorted())")
            }
        }
        return problems
    }

    // MARK: Tests

    @Test("the files name the series they must: AMI down, dead letters, outbox growth, database, latency, API")
    func coverage() throws {
        let alerts = try Self.alertQueries().map(\.expression).joined(separator: "\n")
        for series in ["amibridge_ami_connected", "amibridge_outbox_dead_letters", "amibridge_outbox_depth", "amibridge_vicidial_db_up"] {
            #expect(alerts.contains(series), "no alert on \(series)")
        }
        let panels = try Self.dashboardQueries().map(\.expression).joined(separator: "\n")
        for series in ["amibridge_ami_connected", "amibridge_ami_events_total", "amibridge_calls_active",
                       "amibridge_webhook_delivery_latency_seconds_bucket", "amibridge_outbox_depth",
                       "amibridge_outbox_dead_letters", "amibridge_api_requests_total"] {
            #expect(panels.contains(series), "no panel on \(series)")
        }
        #expect(panels.contains("histogram_quantile(0.5,") && panels.contains("histogram_quantile(0.99,"))
    }

    @Test("the checker itself: a made-up series or label is reported")
    func checkerCatchesMistakes() throws {
        let exposition = try Exposition("""
            # TYPE amibridge_outbox_depth gauge
            amibridge_outbox_depth{endpoint="crm"} 0
            # TYPE amibridge_ami_event_lag_seconds histogram
            amibridge_ami_event_lag_seconds_bucket{le="0.1"} 1
            """)
        let good = Query(source: "t", expression: #"sum by (le) (rate(amibridge_ami_event_lag_seconds_bucket[5m])) + amibridge_outbox_depth{endpoint="crm"}"#,
                         labels: try Self.labels(in: #"sum by (le) (x) + y{endpoint="crm"}"#))
        #expect(try Self.unexported([good], in: exposition).isEmpty)
        let renamed = Query(source: "t", expression: "amibridge_outbox_size", labels: [])
        let wrongLabel = Query(source: "t", expression: #"amibridge_outbox_depth{server="x"}"#, labels: ["server"])
        #expect(try Self.unexported([renamed, wrongLabel], in: exposition).count == 2)
    }

    @Test("every series and label in the dashboard and the alerts is in a real scrape of the daemon")
    func seriesAreExported() async throws {
        let queries = try Self.alertQueries() + Self.dashboardQueries()
        #expect(queries.count >= 15, "\(queries)")
        let secret = "monitoring-\(UUID())"
        let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: secret)
        defer { receiver.process.terminate() }
        let state = NSTemporaryDirectory() + "amibridge-monitoring-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: state) }
        let ami = try GatedReplay()

        try await FakeAMIServer.withServer(behavior: ami.behavior) { server in
            let environment = GatedReplay.amiEnvironment(port: server.port)
                .merging(try CheckCommandTests.databaseEnvironment()) { _, new in new }
                .merging([
                    "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0", "LOG_LEVEL": "debug", "WEBHOOKS_ENDPOINTS": "crm",
                    "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiverPort)/hooks", "WEBHOOKS_CRM_SECRET": secret,
                    // No ViciDial row comes for the recorded call: its wait ends after a second.
                    "VICIDIAL_ROW_WAIT_SECONDS": "1",
                ]) { _, new in new }
            let daemon = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: environment)
            defer { daemon.process.terminate() }
            try await withDeadline(.seconds(90)) {
                let port = try await daemon.apiPort()
                ami.gate.open()
                // Every family appears once it has a sample: a delivery's latency, an API answer.
                try await receiver.line(containing: "POST call_complete")
                let first = try await daemon.line(containing: #""message":"delivered""#)
                try await daemon.line(containing: #""message":"delivered""#, after: first.index)
                _ = try DaemonMetricsTests.scrape(port: port)
                let exposition = try Exposition(try DaemonMetricsTests.scrape(port: port))
                #expect(exposition.types["amibridge_vicidial_db_up"] == "gauge")
                let problems = try Self.unexported(queries, in: exposition)
                #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
            }
            await daemon.stop()
        }
    }

    static var promtool: String? { ProcessInfo.processInfo.environment["AMIBRIDGE_PROMTOOL"] }

    @Test("promtool: the rules are valid and their unit tests pass (each alert fires on its series, not before)",
          .enabled(if: promtool != nil, "AMIBRIDGE_PROMTOOL unset: scripts/test.sh sets it (scripts/promtool.sh)"))
    func promtoolPasses() async throws {
        let promtool = try #require(Self.promtool)
        for arguments in [["check", "rules", Self.alertsPath], ["test", "rules", Self.alertTestsPath]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: promtool)
            process.arguments = arguments
            process.currentDirectoryURL = DeployFilesTests.root
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            await ChildProcess.waitForExit(process)
            #expect(process.terminationStatus == 0, "promtool \(arguments.joined(separator: " ")):\n\(text)")
            #expect(text.contains("SUCCESS"), "\(text)")
        }
    }
}
