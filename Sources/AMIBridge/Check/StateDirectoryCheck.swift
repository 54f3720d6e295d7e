import CRMSink
import Foundation

extension DependencyCheck {
    /// Opens the outbox and the API key store as `run` does (creating the directory and files if
    /// needed, so a wrong owner or a read-only mount shows here) and reports what they hold.
    static func stateDirectory(_ path: String) -> DependencyCheck {
        DependencyCheck(name: "state_dir") {
            do {
                let counts = try Outbox(stateDirectory: path).counts()
                let keys = try APIKeyStore(stateDirectory: path).list()
                let owed = counts.values.reduce(0) { $0 + $1.owed }
                let dead = counts.values.reduce(0) { $0 + ($1[.dead] ?? 0) }
                guard FileManager.default.isWritableFile(atPath: path) else { return .failed("\(path) is not writable") }
                return .passed("\(path) writable; outbox: \(owed) deliveries owed, \(dead) dead letters; \(keys.count) API keys")
            } catch {
                return .failed("\(path): \(error)")
            }
        }
    }
}
