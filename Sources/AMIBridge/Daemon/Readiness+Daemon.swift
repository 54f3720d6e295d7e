import AMIProtocol
import CoreMetrics
import EventMapper
import Foundation
import Logging
import MariaDB
import NIOConcurrencyHelpers
import ServiceLifecycle
import ViciDial

/// What `/readyz` checks in the running daemon: every AMI server logged in, the ViciDial database
/// answering, the state directory writable. Each check is bounded, so a hung dependency makes
/// `/readyz` say so instead of hanging with it.
enum Readiness {
    /// How long `/readyz` waits for the database's `SELECT 1`.
    static let databaseLimit: Duration = .seconds(2)

    static func checks(
        clients: [AMIClient],
        databaseProbe probe: DatabaseProbe?,
        stateDirectory: String,
        eventLog: EventLogStage? = nil
    ) -> [ReadinessCheck] {
        var checks: [ReadinessCheck] = clients.map { client in
            (name: "ami:\(client.configuration.name)", check: {
                switch client.status {
                case .loggedIn: return .ready
                case .connecting: return .notReady(reason: "connecting")
                case .disconnected(let error): return .notReady(reason: error.description)
                }
            })
        }
        if let probe {
            checks.append((name: "vicidial_db", check: { await probe.check() }))
        }
        if let eventLog {
            checks.append((name: "nats", check: { eventLog.readiness }))
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

/// `/readyz`'s look at the ViciDial database: `SELECT 1` on a connection of its own, with
/// timeouts no longer than the probe's limit, so a probe never takes one of the pool's few
/// connections from the call join (nor waits behind them), and a hung database costs it at most
/// its limit. Logs when the answer changes, so the log says when the database stopped answering
/// and when it came back, whoever asked.
///
/// As a service it also asks every `interval` by itself and keeps `amibridge_vicidial_db_up`
/// current, so an alert sees a database outage even while no call and no `/readyz` asks.
final class DatabaseProbe: Service, Sendable {
    private let client: MariaDBClient
    private let limit: Duration
    private let interval: Duration
    private let clock: any EpochClock
    private let logger: Logger
    /// The last answer, nil before the first.
    private let wasReady = NIOLockedValueBox<Bool?>(nil)
    private let up = Gauge(label: "amibridge_vicidial_db_up")

    init(
        configuration: MariaDBConnection.Configuration, limit: Duration = Readiness.databaseLimit, interval: Duration = .seconds(15),
        clock: any EpochClock = SystemEpochClock(), logger: Logger = Logger(label: "amibridge.readiness")
    ) {
        var probing = configuration
        probing.connectTimeout = min(configuration.connectTimeout, limit)
        probing.readTimeout = min(configuration.readTimeout, limit)
        probing.writeTimeout = min(configuration.writeTimeout, limit)
        probing.acquireTimeout = min(configuration.acquireTimeout, limit)
        client = MariaDBClient(configuration: probing)
        self.limit = limit
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// Probes until graceful shutdown; the probe holds nothing, so it may stop mid-query.
    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await self.check()
                do { try await self.clock.sleep(for: self.interval) } catch { return }
            }
        }
    }

    func check() async -> ReadinessState {
        let client = self.client
        let state = await Readiness.bounded(limit) {
            do {
                _ = try await client.query("SELECT 1")
                return .ready
            } catch {
                return .notReady(reason: "\(error)")
            }
        }
        note(state)
        return state
    }

    private func note(_ state: ReadinessState) {
        let isReady = state == .ready
        up.record(isReady ? 1 : 0)
        guard wasReady.withLockedValue({ wasReady in
            defer { wasReady = isReady }
            return wasReady != isReady && (wasReady != nil || !isReady)
        }) else { return }
        switch state {
        case .ready:
            logger.notice("ViciDial database answers again")
        case .notReady(let reason):
            logger.warning("ViciDial database not answering", metadata: ["reason": "\(reason)"])
        }
    }
}
