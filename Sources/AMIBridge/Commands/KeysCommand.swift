import ArgumentParser
import Foundation

/// `amibridge keys create|list|revoke`: API keys for the HTTP API.
///
/// Keys live hashed in `api_keys.sqlite3` in the state directory, so this works beside a running
/// daemon and a revocation takes effect on the next request.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys for the HTTP API (stored hashed; shown once).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Location: ParsableArguments {
        @Option(help: "The state directory holding api_keys.sqlite3.")
        var stateDir = "/var/lib/amibridge"

        /// Only `create` makes the store: `list` and `revoke` on a wrong `--state-dir` say so instead
        /// of leaving an empty store behind.
        func open(creating: Bool = false) throws -> APIKeyStore {
            let path = (stateDir as NSString).appendingPathComponent(APIKeyStore.fileName)
            guard creating || FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("no key store at \(path) (wrong --state-dir, or no key created yet?)")
            }
            do {
                return try APIKeyStore(stateDirectory: stateDir)
            } catch {
                throw ValidationError("cannot open the key store in \(stateDir): \(error)")
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it once: only its hash is kept.")

        @OptionGroup var location: Location

        @Option(help: "A label for people, e.g. the CRM that uses the key.")
        var name = ""

        func run() throws {
            let key = try location.open(creating: true).create(name: name)
            print(key.text)
            FileHandle.standardError.write(Data("key \(key.id) created; store it now, it cannot be shown again\n".utf8))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ids, names and dates of the keys; never their secrets.")

        @OptionGroup var location: Location

        func run() throws {
            let time = ISO8601DateFormatter()
            print(["ID", "NAME", "CREATED", "REVOKED"].joined(separator: "\t"))
            for record in try location.open().list() {
                print([record.id, record.name.isEmpty ? "-" : record.name, time.string(from: record.createdAt), record.revokedAt.map(time.string) ?? "-"].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id: the next request with it gets 401.")

        @OptionGroup var location: Location

        @Argument(help: "The key id (the ID column of `keys list`, or the part after amib_).")
        var id: String

        func run() throws {
            guard try location.open().revoke(id: id) else {
                throw ValidationError("no key with id \(id)")
            }
            print("key \(id) revoked")
        }
    }
}
