import CRMSink
import Foundation

extension DependencyCheck {
    /// Opens the outbox and the API key store as `run` does (creating the directory and files if
    /// needed, so a wrong owner or a read-only mount shows here) and reports what they hold.
    ///
    /// Run as another user than the directory's owner (typically `sudo amibridge check` as root
    /// while the service runs as `amibridge`), it touches nothing: opening the SQLite files would
    /// leave root-owned WAL files behind that the daemon then cannot open.
    static func stateDirectory(_ path: String) -> DependencyCheck {
        DependencyCheck(name: "state_dir") {
            if let owner = (try? FileManager.default.attributesOfItem(atPath: path))?[.ownerAccountID] as? NSNumber,
               owner.uint32Value != geteuid() {
                let name = (try? FileManager.default.attributesOfItem(atPath: path))?[.ownerAccountName] as? String ?? "uid \(owner)"
                return .failed("\(path) belongs to \(name): run check as that user (the service's), so no file in it changes owner")
            }
            do {
                let counts = try Outbox(stateDirectory: path).counts()
                let keys = try APIKeyStore(stateDirectory: path).list()
                guard FileManager.default.isWritableFile(atPath: path) else { return .failed("\(path) is not writable") }
                let owed = counts.values.reduce(0) { $0 + $1.owed }
                let dead = counts.values.reduce(0) { $0 + ($1[.dead] ?? 0) }
                return .passed("\(path) writable; outbox: \(owed) deliveries owed, \(dead) dead letters; \(keys.count) API keys")
            } catch {
                return .failed("\(path): \(error)")
            }
        }
    }
}
