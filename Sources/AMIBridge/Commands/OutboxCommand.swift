import ArgumentParser
import CRMSink
import Foundation

/// `amibridge outbox list|retry|purge`: what the webhook outbox still owes, and the dead letters.
/// Safe while the daemon runs: it opens its own connection and waits for the daemon's writes.
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Look at pending and dead-lettered webhook deliveries and re-drive them.",
        subcommands: [List.self, Retry.self, Purge.self]
    )

    struct Location: ParsableArguments {
        @Option(help: "The state directory holding outbox.sqlite3 (default: state_dir of --config, else /var/lib/amibridge).")
        var stateDir: String?

        @Option(help: "The YAML configuration file, read for state_dir.")
        var config: String?

        /// The existing outbox; never creates one.
        func open() async throws -> Outbox {
            var directory = self.stateDir
            if directory == nil, let config = self.config {
                do {
                    directory = try await WebhookConfiguration.load(path: config).stateDirectory
                } catch let error as ConfigurationError {
                    FileHandle.standardError.write(Data("amibridge: \(error)\n".utf8))
                    throw ExitCode(78) // EX_CONFIG
                }
            }
            let path = ((directory ?? "/var/lib/amibridge") as NSString).appendingPathComponent(Outbox.fileName)
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("no outbox at \(path) (wrong --state-dir?)")
            }
            return try Outbox(path: path)
        }
    }

    /// Which rows `retry` and `purge` act on.
    struct Filter: ParsableArguments {
        @OptionGroup var location: Location

        @Option(help: "Which deliveries: dead (the default), waiting_to_retry, pending, owed or all.")
        var state = "dead"

        @Option(help: "Only this endpoint's deliveries.")
        var endpoint: String?

        @Argument(help: "Delivery ids (the ID column of `outbox list`); none means every delivery in the chosen state.")
        var ids: [Int64] = []

        func resolve() async throws -> (Outbox, OutboxSelection) {
            let selection = OutboxSelection(states: try OutboxCommand.states(state), endpoint: endpoint, ids: ids)
            return (try await location.open(), selection)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts per endpoint and state, then the deliveries, oldest first.")

        @OptionGroup var location: Location

        @Option(help: "pending, in_flight, waiting_to_retry, dead, owed (all but dead) or all.")
        var state = "all"

        @Option(help: "Only this endpoint's deliveries.")
        var endpoint: String?

        @Option(help: "At most this many rows.")
        var limit = 100

        func run() async throws {
            let outbox = try await location.open()
            let states = try OutboxCommand.states(state)
            print("outbox \(outbox.path)")
            for (endpoint, counts) in try outbox.counts().sorted(by: { $0.key < $1.key }) where self.endpoint.map({ $0 == endpoint }) ?? true {
                print("\(endpoint): " + OutboxDeliveryState.allCases.map { "\(counts[$0, default: 0]) \($0)" }.joined(separator: ", "))
            }
            let entries = try outbox.list(OutboxSelection(states: states, endpoint: endpoint), limit: limit)
            guard !entries.isEmpty else { return }
            print(["ID", "STATE", "ENDPOINT", "EVENT", "EVENT_ID", "CALL", "ATTEMPTS", "CREATED", "NEXT_ATTEMPT", "LAST_STATUS", "LAST_ERROR"].joined(separator: "\t"))
            let time = ISO8601DateFormatter()
            for entry in entries {
                print([
                    String(entry.id), entry.state.description, entry.endpoint, entry.event, entry.eventID.uuidString.lowercased(), entry.callKey,
                    String(entry.attempts), time.string(from: entry.createdAt),
                    entry.state == .dead ? "-" : time.string(from: entry.nextAttemptAt),
                    entry.lastStatus.map(String.init) ?? "-", entry.lastError ?? "-",
                ].joined(separator: "\t"))
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send deliveries again now, with a fresh attempt count and age: the dead letters by default.",
            discussion: "A running daemon picks them up within its poll interval. `--state owed` re-drives waiting retries without waiting for their backoff."
        )

        @OptionGroup var filter: Filter

        func run() async throws {
            let (outbox, selection) = try await filter.resolve()
            print("\(try outbox.retry(selection)) deliveries queued again")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete deliveries for good: the dead letters by default.")

        @OptionGroup var filter: Filter

        func run() async throws {
            let (outbox, selection) = try await filter.resolve()
            print("\(try outbox.purge(selection)) deliveries deleted")
        }
    }

    /// In-flight rows belong to a running dispatcher: `retry` and `purge` never touch them.
    static func states(_ name: String) throws -> Set<OutboxDeliveryState> {
        switch name {
        case "all": return Set(OutboxDeliveryState.allCases)
        case "owed": return [.pending, .inFlight, .waitingToRetry]
        default:
            guard let state = OutboxDeliveryState(name: name) else {
                throw ValidationError("--state: '\(name)' is not pending, in_flight, waiting_to_retry, dead, owed or all")
            }
            return [state]
        }
    }
}
