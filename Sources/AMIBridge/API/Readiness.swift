/// What one dependency reports to `GET /readyz`.
enum ReadinessState: Sendable, Equatable {
    case ready
    case notReady(reason: String)
}

/// A named dependency check. Closures, so the daemon wires AMI, the database and the outbox
/// without the API knowing their types, and tests inject fixed answers.
typealias ReadinessCheck = (name: String, check: @Sendable () async -> ReadinessState)

/// The body of `GET /readyz`: 200 when every check is ready, else 503; each check listed in order.
struct ReadinessReport: Encodable, Sendable {
    struct Entry: Encodable, Sendable {
        var name: String
        var state: String
        var reason: String?
    }

    var status: String
    var checks: [Entry]

    var isReady: Bool { status == "ready" }

    /// Runs the checks concurrently: `/readyz` takes as long as the slowest, not the sum.
    static func evaluate(_ checks: [ReadinessCheck]) async -> ReadinessReport {
        let states = await withTaskGroup(of: (Int, ReadinessState).self) { group in
            for (index, check) in checks.enumerated() {
                group.addTask { (index, await check.check()) }
            }
            var states = [ReadinessState?](repeating: nil, count: checks.count)
            for await (index, state) in group { states[index] = state }
            return states
        }
        let entries = zip(checks, states).map { check, state in
            switch state {
            case .ready?: Entry(name: check.name, state: "ready")
            case .notReady(let reason)?: Entry(name: check.name, state: "not_ready", reason: reason)
            case nil: Entry(name: check.name, state: "not_ready", reason: "no answer")
            }
        }
        return ReadinessReport(status: entries.allSatisfy { $0.state == "ready" } ? "ready" : "not_ready", checks: entries)
    }
}
