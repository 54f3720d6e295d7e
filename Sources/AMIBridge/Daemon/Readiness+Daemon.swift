import AMIProtocol
import EventMapper
import Foundation

/// What `/readyz` checks in the running daemon: every AMI server logged in, the ViciDial database
/// answering, the state directory writable. Each check is bounded, so a hung dependency makes
/// `/readyz` say so instead of hanging with it.
enum Readiness {
    static func checks(clients: [AMIClient], database: MariaDBPool?, stateDirectory: String) -> [ReadinessCheck] {
        var checks: [ReadinessCheck] = clients.map { client in
            (name: "ami:\(client.configuration.name)", check: {
                switch client.status {
                case .loggedIn: return .ready
                case .connecting: return .notReady(reason: "connecting")
                case .disconnected(let error): return .notReady(reason: error.description)
                }
            })
        }
        if let database {
            checks.append((name: "vicidial_db", check: {
                await bounded(.seconds(2)) {
                    do {
                        _ = try await database.query("SELECT 1")
                        return .ready
                    } catch {
                        return .notReady(reason: "\(error)")
                    }
                }
            }))
        }
        checks.append((name: "state_dir", check: {
            FileManager.default.isWritableFile(atPath: stateDirectory) ? .ready : .notReady(reason: "\(stateDirectory) is not writable")
        }))
        return checks
    }

    /// The check's answer, or not ready once `limit` has passed.
    static func bounded(_ limit: Duration, _ check: @escaping @Sendable () async -> ReadinessState) async -> ReadinessState {
        await result(within: limit, check) ?? .notReady(reason: "no answer within \(limit)")
    }
}
