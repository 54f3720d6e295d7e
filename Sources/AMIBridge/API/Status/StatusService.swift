import AMIProtocol
import CRMSink
import EventMapper
import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// Builds the status page's snapshot from what the daemon already keeps: the AMI clients' state,
/// the ``StatusBoard`` the stages feed, the dispatcher's ``DeliveryHistory``, and the outbox.
///
/// Nothing here waits on the event path or on ViciDial's database. The outbox is read (counts
/// per endpoint and state, the first dead letters through their index) on a thread of the
/// service's own, on a connection of its own, at most every ``Configuration/outboxInterval``;
/// the whole snapshot is rebuilt at most every ``Configuration/refreshInterval``, and while one
/// rebuild runs other requests get the previous snapshot, so many open pages cost no more than one.
final class StatusService: Sendable {
    struct Configuration: Sendable {
        /// `log.mask_phone_numbers`: numbers are masked in the snapshot itself. Default off.
        var maskPhoneNumbers = false
        /// Default 0.5 s.
        var refreshInterval: Double = 0.5
        /// Default 2 s: counting a large outbox scans it.
        var outboxInterval: Double = 2
        /// Calls in progress and waiting calls listed. Default 50.
        var callLimit = 50
        /// Dead letters listed. Default 100.
        var deadLetterLimit = 100
    }

    /// One AMI server as its client reports it.
    struct AMIServerReading: Sendable {
        var name: String
        var status: AMIClient.Status
        var since: Double
        var eventsRead: Int
    }

    let configuration: Configuration
    let board: StatusBoard?
    let history: DeliveryHistory?
    private let servers: @Sendable () -> [AMIServerReading]
    /// Read by the snapshot: a connection of its own (WAL: never waits for the dispatcher's writes).
    private let outbox: Outbox?
    /// Written by a retry: the dispatcher's, so the retried row wakes it at once.
    private let retryOutbox: Outbox?
    private let endpoints: @Sendable () -> [String]
    /// The event log's state (nil without `nats:`); blocks for an SQLite count, read on this service's thread.
    private let eventLog: @Sendable () -> StatusSnapshot.EventLog?
    private let clock: any EpochClock
    private let thread: NIOThreadPool
    private let cache = NIOLockedValueBox(Cache())

    private struct Cache {
        var snapshot: StatusSnapshot?
        var builtAt = -Double.infinity
        var building = false
        var outboxReadAt = -Double.infinity
        var counts: [String: [OutboxDeliveryState: Int]] = [:]
        var deadLetters: [OutboxEntry] = []
        /// Per server: events read at the last reading, when, and the rate it gave.
        var eventSamples: [String: (count: Int, at: Double, rate: Double?)] = [:]
    }

    init(
        configuration: Configuration = .init(), board: StatusBoard?, history: DeliveryHistory?,
        servers: @escaping @Sendable () -> [AMIServerReading] = { [] }, outbox: Outbox?, retryOutbox: Outbox?,
        endpoints: @escaping @Sendable () -> [String] = { [] }, eventLog: @escaping @Sendable () -> StatusSnapshot.EventLog? = { nil },
        clock: any EpochClock = SystemEpochClock()
    ) {
        self.configuration = configuration
        self.board = board
        self.history = history
        self.servers = servers
        self.outbox = outbox
        self.retryOutbox = retryOutbox
        self.endpoints = endpoints
        self.eventLog = eventLog
        self.clock = clock
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    deinit {
        thread.shutdownGracefully { _ in }
    }

    /// The daemon's AMI clients, as readings.
    static func readings(_ clients: [AMIClient]) -> @Sendable () -> [AMIServerReading] {
        {
            clients.map { client in
                let (status, since) = client.statusWithSince
                return AMIServerReading(name: client.configuration.name, status: status, since: since, eventsRead: client.eventsRead)
            }
        }
    }

    func snapshot() async throws -> StatusSnapshot {
        let now = clock.epochSeconds
        let cached: StatusSnapshot? = cache.withLockedValue { cache in
            if let snapshot = cache.snapshot, cache.building || now - cache.builtAt < configuration.refreshInterval { return snapshot }
            cache.building = true
            return nil
        }
        if let cached { return cached }
        do {
            let snapshot = try await thread.runIfActive { self.build(at: now) }
            cache.withLockedValue { cache in
                cache.snapshot = snapshot
                cache.builtAt = now
                cache.building = false
            }
            return snapshot
        } catch {
            cache.withLockedValue { $0.building = false }
            throw error
        }
    }

    /// Sends dead letter `id` again now (as `amibridge outbox retry ID`). False when no dead
    /// letter has that id (never was, delivered since, or already retried).
    func retryDeadLetter(_ id: Int64) async throws -> Bool {
        guard let retryOutbox else { return false }
        let retried = try await thread.runIfActive {
            try retryOutbox.retry(OutboxSelection(states: [.dead], ids: [id]))
        }
        // The next snapshot reads the outbox again.
        cache.withLockedValue { $0.outboxReadAt = -.infinity; $0.builtAt = -.infinity }
        return retried > 0
    }

    // MARK: Building (on the service's thread)

    private func build(at now: Double) -> StatusSnapshot {
        let (counts, deadLetters) = readOutbox(at: now)
        let calls = board?.snapshot ?? StatusBoard.Calls()
        let endpointNames = Set(counts.keys).union(endpoints()).sorted()
        let eventLog = self.eventLog()
        return StatusSnapshot(
            generatedAt: now,
            phoneNumbersMasked: configuration.maskPhoneNumbers,
            amiServers: amiServers(at: now),
            callsInProgress: callsInProgress(calls.live, at: now),
            callsWaiting: callsWaiting(calls.held),
            endpoints: endpointNames.map { name in
                let states = counts[name] ?? [:]
                return .init(
                    name: name, owed: states.owed, pending: states[.pending] ?? 0, inFlight: states[.inFlight] ?? 0,
                    waitingToRetry: states[.waitingToRetry] ?? 0, dead: states[.dead] ?? 0
                )
            },
            recentDeliveries: (history?.attempts ?? []).reversed().map { attempt in
                .init(
                    deliveryID: attempt.deliveryID, eventID: attempt.eventID.uuidString.lowercased(), event: attempt.event,
                    endpoint: attempt.endpoint, result: attempt.result.rawValue, status: attempt.status,
                    requestMs: attempt.requestMilliseconds, latencyMs: attempt.latencyMilliseconds,
                    at: attempt.at.timeIntervalSince1970, error: attempt.error.map(maskedText)
                )
            },
            deadLetters: .init(
                count: counts.values.reduce(0) { $0 + ($1[.dead] ?? 0) },
                letters: deadLetters.map { entry in
                    .init(
                        deliveryID: entry.id, eventID: entry.eventID.uuidString.lowercased(), event: entry.event, endpoint: entry.endpoint,
                        callKey: entry.callKey, attempts: entry.attempts, createdAt: entry.createdAt.timeIntervalSince1970,
                        lastStatus: entry.lastStatus, lastError: entry.lastError.map(maskedText)
                    )
                }
            ),
            eventLog: eventLog
        )
    }

    /// The outbox's counts and first dead letters, read again when the last reading is old. A
    /// failed read keeps the last one (the page still answers; the log and `/readyz` tell why).
    private func readOutbox(at now: Double) -> ([String: [OutboxDeliveryState: Int]], [OutboxEntry]) {
        let (due, counts, letters) = cache.withLockedValue { ($0.outboxReadAt + configuration.outboxInterval <= now, $0.counts, $0.deadLetters) }
        guard due, let outbox else { return (counts, letters) }
        guard let newCounts = try? outbox.counts(),
              let newLetters = try? outbox.list(OutboxSelection(states: [.dead]), limit: configuration.deadLetterLimit)
        else { return (counts, letters) }
        cache.withLockedValue { cache in
            cache.outboxReadAt = now
            cache.counts = newCounts
            cache.deadLetters = newLetters
        }
        return (newCounts, newLetters)
    }

    private func amiServers(at now: Double) -> [StatusSnapshot.AMIServer] {
        let readings = servers()
        let rates: [Double?] = cache.withLockedValue { cache in
            readings.map { reading in
                guard let last = cache.eventSamples[reading.name] else {
                    cache.eventSamples[reading.name] = (reading.eventsRead, now, nil)
                    return nil
                }
                guard now - last.at >= 1 else { return last.rate }
                let rate = Double(max(0, reading.eventsRead - last.count)) / (now - last.at)
                cache.eventSamples[reading.name] = (reading.eventsRead, now, rate)
                return rate
            }
        }
        return zip(readings, rates).map { reading, rate in
            let (state, error): (StatusSnapshot.AMIServer.State, String?) = switch reading.status {
            case .loggedIn: (.loggedIn, nil)
            case .connecting: (.connecting, nil)
            case .disconnected(let reason): (.disconnected, "\(reason)")
            }
            return .init(
                name: reading.name, connected: state == .loggedIn, state: state, since: reading.since,
                eventsPerSecond: rate.map { ($0 * 10).rounded() / 10 }, error: error
            )
        }
    }

    private func callsInProgress(_ live: [String: StatusBoard.Call], at now: Double) -> StatusSnapshot.CallsInProgress {
        let inProgress = live.values.filter { !$0.ended }
        let oldest = inProgress.sorted { ($0.startedAt ?? now, $0.linkedid) < ($1.startedAt ?? now, $1.linkedid) }.prefix(configuration.callLimit)
        return .init(count: inProgress.count, calls: oldest.map { call in
            let started = call.startedAt ?? now
            return .init(
                server: call.server, linkedid: call.linkedid, callID: call.callID, startedAt: started,
                ageSeconds: max(0, Int(now - started)), answered: call.answeredAt != nil,
                agent: call.agent.map(maskedChannel), phoneNumber: call.phoneNumber.map(maskedNumber)
            )
        })
    }

    private func callsWaiting(_ held: [String: StatusBoard.Call]) -> StatusSnapshot.CallsWaiting {
        var counts: [HeldCall.Kind: Int] = [:]
        for call in held.values { if let kind = call.waitingFor { counts[kind, default: 0] += 1 } }
        let nearest = held.values.sorted { ($0.deadline ?? 0, $0.linkedid) < ($1.deadline ?? 0, $1.linkedid) }.prefix(configuration.callLimit)
        return .init(
            vicidialRow: counts[.viciDialRow] ?? 0,
            disposition: counts[.disposition] ?? 0,
            calls: nearest.map { call in
                .init(
                    server: call.server, linkedid: call.linkedid, callID: call.callID,
                    waitingFor: call.waitingFor == .disposition ? .disposition : .vicidialRow,
                    since: call.waitingSince, deadline: call.deadline ?? 0,
                    agent: call.agent.map(maskedChannel), phoneNumber: call.phoneNumber.map(maskedNumber)
                )
            }
        )
    }

    private func maskedNumber(_ number: String) -> String {
        configuration.maskPhoneNumbers ? PhoneNumberMasking.maskDigits(number) : number
    }

    /// Channels, dial strings and error texts carry numbers inside (`SIP/carrier/18005551234`).
    private func maskedChannel(_ text: String) -> String {
        configuration.maskPhoneNumbers ? PhoneNumberMasking.maskDigitRuns(text) : text
    }

    private func maskedText(_ text: String) -> String { maskedChannel(text) }
}
