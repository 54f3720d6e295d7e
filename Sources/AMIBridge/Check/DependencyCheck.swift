import Logging

/// What one line of `amibridge check` reports.
enum CheckOutcome: Sendable, Equatable {
    case passed(String)
    case failed(String)

    var passed: Bool {
        if case .passed = self { return true }
        return false
    }
}

/// One dependency of the daemon, checked the way the daemon uses it. Checks run concurrently,
/// each bounded by its own deadline, and report in the order they were listed.
struct DependencyCheck: Sendable {
    var name: String
    var run: @Sendable () async -> [NamedOutcome]

    typealias NamedOutcome = (name: String, outcome: CheckOutcome)

    /// A check that reports one line under its own name.
    init(name: String, _ body: @escaping @Sendable () async -> CheckOutcome) {
        self.name = name
        self.run = { [(name, await body())] }
    }

    /// A check that reports several lines (a database and each of its tables).
    init(name: String, lines: @escaping @Sendable () async -> [NamedOutcome]) {
        self.name = name
        self.run = lines
    }

    /// Runs every check at once; a check still running after `timeout` reports one failed line.
    static func runAll(_ checks: [DependencyCheck], timeout: Duration) async -> [NamedOutcome] {
        let results = await withTaskGroup(of: (Int, [NamedOutcome]).self) { group in
            for (index, check) in checks.enumerated() {
                group.addTask {
                    let lines = await result(within: timeout, check.run)
                    return (index, lines ?? [(check.name, .failed("no answer within \(timeout.secondsText)"))])
                }
            }
            var results = [[NamedOutcome]](repeating: [], count: checks.count)
            for await (index, lines) in group { results[index] = lines }
            return results
        }
        return results.flatMap { $0 }
    }

    /// `✓ name: detail` or `✗ name: reason`.
    static func line(_ result: NamedOutcome) -> String {
        switch result.outcome {
        case .passed(let detail): "✓ \(result.name): \(detail)"
        case .failed(let reason): "✗ \(result.name): \(reason)"
        }
    }

    /// For the parts a check drives (AMI client, ...): their own logging would mix with the report.
    static let silentLogger = Logger(label: "amibridge.check", factory: { _ in SwiftLogNoOpLogHandler() })
}

extension Duration {
    /// `2 s`, `1.5 s`, `250 ms`: for people.
    var secondsText: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
    }

    /// `0.42 ms`, `12.3 ms`: a measured round trip.
    var millisecondsText: String {
        let milliseconds = Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
        return milliseconds < 10 ? "\((milliseconds * 100).rounded() / 100) ms" : "\((milliseconds * 10).rounded() / 10) ms"
    }
}
