import Foundation
import NIOConcurrencyHelpers

/// The durable queue of webhook deliveries: one SQLite file in the state directory.
///
/// An event counts as emitted once ``enqueue(_:)`` returns: its rows are committed to disk.
/// The database runs in WAL mode with `synchronous=FULL`: every commit fsyncs the WAL, so a
/// committed event survives not only `kill -9` (which `NORMAL` would also survive, the WAL being
/// in the page cache) but a power cut or kernel panic, which `NORMAL` may roll back. Group commit
/// (one transaction per batch of enqueues) pays that fsync once per batch.
///
/// Claims and outcomes commit without an fsync of their own (`synchronous=NORMAL` for those
/// transactions): the next enqueue's fsync flushes them with it, and losing them to a power cut
/// only means a delivery is attempted again (same event_id), which receivers already tolerate.
///
/// One connection behind a lock is the process's single writer; `amibridge outbox` opens its own
/// connection and waits for the lock (busy timeout) when it writes.
public final class Outbox: Sendable {
    /// The file inside a state directory.
    public static let fileName = "outbox.sqlite3"

    public let path: String
    private let state: NIOLockedValueBox<Connection>
    private let groupCommit: GroupCommit
    private let observers = NIOLockedValueBox<[@Sendable () -> Void]>([])

    /// Opens (creating if needed) `<stateDirectory>/outbox.sqlite3`, creating the directory too.
    public convenience init(stateDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        try self.init(path: (stateDirectory as NSString).appendingPathComponent(Self.fileName))
    }

    public init(path: String) throws {
        self.path = path
        let database = try SQLiteDatabase(path: path)
        // temp_store = MEMORY: the claim's RETURNING collects its rows in a temporary table, which
        // otherwise opens and deletes a temporary file for every claim.
        try database.execute(
            """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            PRAGMA busy_timeout = 10000;
            PRAGMA temp_store = MEMORY;
            CREATE TABLE IF NOT EXISTS deliveries (
                id INTEGER PRIMARY KEY,
                event_id TEXT NOT NULL,
                event TEXT NOT NULL,
                endpoint TEXT NOT NULL,
                call_key TEXT NOT NULL,
                request_url TEXT,
                body BLOB NOT NULL,
                state INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL,
                next_attempt_at INTEGER NOT NULL,
                last_status INTEGER,
                last_error TEXT
            );
            CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_attempt_at) WHERE state IN (0, 2);
            CREATE INDEX IF NOT EXISTS deliveries_call ON deliveries (endpoint, call_key, id) WHERE state < 3;
            -- Dead letters are few among many owed rows: the status page finds them without a scan.
            CREATE INDEX IF NOT EXISTS deliveries_dead ON deliveries (id) WHERE state = 3;
            -- Events owed to the event log (NATS JetStream); see OutboxPublication.
            CREATE TABLE IF NOT EXISTS publications (
                id INTEGER PRIMARY KEY,
                event_id TEXT NOT NULL,
                subject TEXT NOT NULL,
                body BLOB NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL,
                last_error TEXT
            );
            CREATE TABLE IF NOT EXISTS held_calls (
                kind TEXT NOT NULL,
                call_key TEXT NOT NULL,
                payload BLOB NOT NULL,
                deadline INTEGER NOT NULL,
                PRIMARY KEY (kind, call_key)
            ) WITHOUT ROWID;
            """
        )
        self.state = NIOLockedValueBox(try Connection(database))
        self.groupCommit = GroupCommit()
        self.groupCommit.start(outbox: self)
    }

    deinit {
        self.groupCommit.stop()
    }

    /// Called after every commit that added rows (from the committing thread): the dispatcher
    /// wakes up instead of waiting for its next poll.
    public func addEnqueueObserver(_ observer: @escaping @Sendable () -> Void) {
        self.observers.withLockedValue { $0.append(observer) }
    }

    /// Writes `deliveries` in one transaction and returns once they are on disk. Nothing checks
    /// for an event_id already in the outbox: a unique index on random UUIDs would make every
    /// insert a random B-tree write and halve the enqueue rate at a million pending rows.
    public func enqueueBlocking(_ deliveries: [OutboxNewDelivery], now: Date = Date()) throws {
        try self.commitBlocking(OutboxBatch(deliveries: deliveries), now: now)
    }

    /// Like ``enqueueBlocking(_:now:)``, but concurrent callers share one transaction (group commit): a
    /// dedicated thread writes everything queued since its last commit, then resumes them all.
    public func enqueue(_ deliveries: [OutboxNewDelivery]) async throws {
        try await self.commit(OutboxBatch(deliveries: deliveries))
    }

    /// Writes a batch (deliveries, held calls, released calls) in one transaction and returns once
    /// it is on disk.
    public func commitBlocking(_ batch: OutboxBatch, now: Date = Date()) throws {
        guard !batch.isEmpty else { return }
        try self.state.withLockedValue { try $0.write(batch, now: now) }
        if !batch.deliveries.isEmpty || !batch.publications.isEmpty {
            for observer in self.observers.withLockedValue({ $0 }) { observer() }
        }
    }

    /// Like ``commitBlocking(_:now:)``, shared with concurrent callers (group commit): one fsync for
    /// everything that arrived while the previous transaction committed.
    public func commit(_ batch: OutboxBatch) async throws {
        guard !batch.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            self.groupCommit.submit(batch, continuation)
        }
    }

    /// Writes a delivery made elsewhere (from the event log, by `amibridge deliver`) that was given
    /// up on: a dead letter here, listed and re-driven like the outbox's own (`amibridge outbox`),
    /// and sent by this outbox's dispatcher once re-driven. On disk when this returns.
    public func recordDeadLetterBlocking(_ delivery: OutboxNewDelivery, attempts: Int, status: Int?, error: String, now: Date = Date()) throws {
        try self.state.withLockedValue { try $0.writeDeadLetter(delivery, attempts: attempts, status: status, error: error, now: now) }
    }

    /// The calls held for `kind`, oldest deadline first: what a restarted bridge waits for again.
    public func heldCalls(_ kind: HeldCall.Kind) throws -> [HeldCall] {
        try self.state.withLockedValue { connection in
            try connection.selectHeld.reset([.text(kind.rawValue)])
            var calls: [HeldCall] = []
            while try connection.selectHeld.step() {
                calls.append(HeldCall(
                    kind: kind,
                    callKey: connection.selectHeld.text(0),
                    payload: connection.selectHeld.blob(1),
                    deadline: Double(connection.selectHeld.integer(2)) / 1000
                ))
            }
            return calls
        }
    }

    /// How many calls are held, by kind.
    public func heldCallCounts() throws -> [HeldCall.Kind: Int] {
        try self.state.withLockedValue { connection in
            let statement = try connection.database.prepare("SELECT kind, count(*) FROM held_calls GROUP BY kind")
            var counts: [HeldCall.Kind: Int] = [:]
            while try statement.step() { counts[HeldCall.Kind(rawValue: statement.text(0))] = Int(statement.integer(1)) }
            return counts
        }
    }

    /// Marks up to `limit` due deliveries in flight and returns them, oldest due first. A delivery
    /// is due when its time has come and no earlier delivery of the same call to the same endpoint
    /// is still owed (pending, in flight or waiting to retry): per call, events go out in order.
    public func claim(now: Date = Date(), limit: Int) throws -> [OutboxDelivery] {
        try self.state.withLockedValue { try $0.claim(now: now, limit: limit) }
    }

    /// Writes attempts' outcomes in one transaction: delivered rows are deleted, retries get their
    /// next time (and hold back the later events of their call until then), dead rows stay for
    /// `amibridge outbox`.
    public func record(_ outcomes: [OutboxOutcome]) throws {
        guard !outcomes.isEmpty else { return }
        try self.state.withLockedValue { try $0.record(outcomes) }
    }

    /// ``record(_:)`` and ``claim(now:limit:)`` in one transaction: the dispatcher's loop,
    /// one commit (and one WAL append) per batch instead of two.
    public func recordAndClaim(_ outcomes: [OutboxOutcome], now: Date = Date(), limit: Int) throws -> [OutboxDelivery] {
        try self.state.withLockedValue { try $0.recordAndClaim(outcomes, now: now, limit: limit) }
    }

    /// After a crash: what was in flight was perhaps not received; it goes out again (same event_id).
    @discardableResult
    public func resetInFlight() throws -> Int {
        try self.state.withLockedValue { connection in
            try connection.resetInFlight.run()
            return connection.database.changes
        }
    }

    /// The earliest retry time after `now`, if any: when the dispatcher next has work it cannot see yet.
    public func nextAttempt(after now: Date) throws -> Date? {
        try self.state.withLockedValue { connection in
            try connection.nextAttempt.reset([.integer(Self.milliseconds(now))])
            // Reset at once: a statement left on a row keeps its read transaction open, and an open
            // reader stops every checkpoint from restarting the WAL, which then grows without end.
            defer { try? connection.nextAttempt.reset() }
            guard try connection.nextAttempt.step(), let next = connection.nextAttempt.optionalInteger(0) else { return nil }
            return Self.date(next)
        }
    }

    /// Rows per endpoint and state.
    public func counts() throws -> [String: [OutboxDeliveryState: Int]] {
        try self.state.withLockedValue { connection in
            let statement = try connection.database.prepare("SELECT endpoint, state, count(*) FROM deliveries GROUP BY endpoint, state")
            var counts: [String: [OutboxDeliveryState: Int]] = [:]
            while try statement.step() {
                guard let state = OutboxDeliveryState(rawValue: Int(statement.integer(1))) else { continue }
                counts[statement.text(0), default: [:]][state] = Int(statement.integer(2))
            }
            return counts
        }
    }

    /// Rows in `selection`, oldest first.
    public func list(_ selection: OutboxSelection, limit: Int) throws -> [OutboxEntry] {
        try self.state.withLockedValue { connection in
            let (condition, values) = Self.condition(selection)
            let statement = try connection.database.prepare(
                """
                SELECT id, event_id, event, endpoint, call_key, state, attempts, created_at, next_attempt_at, last_status, last_error
                FROM deliveries WHERE \(condition) ORDER BY id LIMIT ?
                """
            )
            try statement.reset(values + [.integer(limit)])
            var entries: [OutboxEntry] = []
            while try statement.step() {
                entries.append(
                    OutboxEntry(
                        id: statement.integer(0),
                        eventID: Outbox.eventID(statement.text(1)),
                        event: statement.text(2),
                        endpoint: statement.text(3),
                        callKey: statement.text(4),
                        state: OutboxDeliveryState(rawValue: Int(statement.integer(5))) ?? .dead,
                        attempts: Int(statement.integer(6)),
                        createdAt: Self.date(statement.integer(7)),
                        nextAttemptAt: Self.date(statement.integer(8)),
                        lastStatus: statement.optionalInteger(9).map(Int.init),
                        lastError: statement.optionalText(10)
                    )
                )
            }
            return entries
        }
    }

    /// Re-drives the selected rows now, with a fresh attempt count and age. Returns how many.
    /// In-flight rows are never touched (a running dispatcher owns them).
    public func retry(_ selection: OutboxSelection, now: Date = Date()) throws -> Int {
        let count = try self.state.withLockedValue { connection in
            let (condition, values) = Self.condition(selection)
            let statement = try connection.database.prepare(
                "UPDATE deliveries SET state = 0, attempts = 0, created_at = ?, next_attempt_at = ? WHERE state <> 1 AND \(condition)"
            )
            let time = SQLiteValue.integer(Self.milliseconds(now))
            try statement.run([time, time] + values)
            return connection.database.changes
        }
        for observer in self.observers.withLockedValue({ $0 }) { observer() }
        return count
    }

    /// Deletes the selected rows (never in-flight ones). Returns how many.
    public func purge(_ selection: OutboxSelection) throws -> Int {
        try self.state.withLockedValue { connection in
            let (condition, values) = Self.condition(selection)
            try connection.database.prepare("DELETE FROM deliveries WHERE state <> 1 AND \(condition)").run(values)
            return connection.database.changes
        }
    }

    // MARK: Event log (NATS JetStream) publications; see OutboxPublication

    /// The oldest `limit` publications, in id order: what the publisher sends next.
    public func pendingPublications(limit: Int) throws -> [OutboxPublication] {
        try self.state.withLockedValue { connection in
            let statement = try connection.database.prepare(
                "SELECT id, event_id, subject, body, attempts, created_at FROM publications ORDER BY id LIMIT ?"
            )
            try statement.reset([.integer(limit)])
            var rows: [OutboxPublication] = []
            while try statement.step() {
                rows.append(OutboxPublication(
                    id: statement.integer(0), eventID: Outbox.eventID(statement.text(1)), subject: statement.text(2),
                    body: statement.blob(3), attempts: Int(statement.integer(4)), createdAt: Self.date(statement.integer(5))
                ))
            }
            return rows
        }
    }

    /// Deletes acknowledged publications and notes a failure on the one that failed (if any), in
    /// one transaction without an fsync of its own: a power cut that undoes it only means those
    /// events are published again, and the stream acknowledges them as duplicates.
    public func recordPublished(_ ids: [Int64], failed: (id: Int64, error: String)? = nil) throws {
        guard !ids.isEmpty || failed != nil else { return }
        try self.state.withLockedValue { connection in
            try connection.database.execute("PRAGMA synchronous = NORMAL")
            defer { try? connection.database.execute("PRAGMA synchronous = FULL") }
            let delete = try connection.database.prepare("DELETE FROM publications WHERE id = ?")
            let fail = try connection.database.prepare("UPDATE publications SET attempts = attempts + 1, last_error = ? WHERE id = ?")
            try connection.database.transaction {
                for id in ids { try delete.run([.integer(id)]) }
                if let failed { try fail.run([.text(failed.error), .integer(failed.id)]) }
            }
        }
    }

    /// How many events wait to be published, and when the oldest entered the outbox.
    public func publicationBacklog() throws -> (count: Int, oldest: Date?) {
        try self.state.withLockedValue { connection in
            let statement = try connection.database.prepare("SELECT count(*), min(created_at) FROM publications")
            guard try statement.step() else { return (0, nil) }
            return (Int(statement.integer(0)), statement.optionalInteger(1).map(Self.date))
        }
    }

    private static func condition(_ selection: OutboxSelection) -> (String, [SQLiteValue]) {
        var terms = ["state IN (\(selection.states.map { String($0.rawValue) }.sorted().joined(separator: ",")))"]
        var values: [SQLiteValue] = []
        if let endpoint = selection.endpoint {
            terms.append("endpoint = ?")
            values.append(.text(endpoint))
        }
        if !selection.ids.isEmpty {
            terms.append("id IN (\(selection.ids.map { _ in "?" }.joined(separator: ",")))")
            values += selection.ids.map { .integer($0) }
        }
        return (terms.joined(separator: " AND "), values)
    }

    /// The stored id; all zeros if the row was edited into something else by hand.
    static func eventID(_ text: String) -> UUID {
        UUID(lowercaseText: text) ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// Commits what `GroupCommit` gathered; resumes every waiter with the result.
    fileprivate func commit(_ batch: [(OutboxBatch, CheckedContinuation<Void, any Error>)]) {
        var merged = OutboxBatch()
        for (part, _) in batch { merged.append(part) }
        let result = Result { try self.commitBlocking(merged) }
        for (_, continuation) in batch { continuation.resume(with: result) }
    }
}

/// The connection and its prepared statements, used under ``Outbox``'s lock. Unchecked: SQLite
/// handles are not Sendable, and only ever reached through that lock, which is what makes sharing safe.
private final class Connection: @unchecked Sendable {
    let database: SQLiteDatabase
    let insert: SQLiteStatement
    let claim: SQLiteStatement
    let delete: SQLiteStatement
    let retry: SQLiteStatement
    let holdBackFollowers: SQLiteStatement
    let dead: SQLiteStatement
    let resetInFlight: SQLiteStatement
    let release: SQLiteStatement
    let nextAttempt: SQLiteStatement
    let hold: SQLiteStatement
    let releaseHeld: SQLiteStatement
    let selectHeld: SQLiteStatement
    let synchronousNormal: SQLiteStatement
    let synchronousFull: SQLiteStatement
    let insertPublication: SQLiteStatement
    let insertDead: SQLiteStatement

    init(_ database: SQLiteDatabase) throws {
        self.database = database
        self.synchronousNormal = try database.prepare("PRAGMA synchronous = NORMAL")
        self.synchronousFull = try database.prepare("PRAGMA synchronous = FULL")
        self.insertPublication = try database.prepare(
            "INSERT INTO publications (event_id, subject, body, created_at) VALUES (?, ?, ?, ?)"
        )
        self.insertDead = try database.prepare(
            """
            INSERT INTO deliveries (event_id, event, endpoint, call_key, request_url, body, state, attempts, created_at, next_attempt_at, last_status, last_error)
            VALUES (?, ?, ?, ?, ?, ?, 3, ?, ?, ?, ?, ?)
            """
        )
        self.insert = try database.prepare(
            """
            INSERT INTO deliveries (event_id, event, endpoint, call_key, request_url, body, state, created_at, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)
            """
        )
        // The inner query walks deliveries_due in time order; NOT EXISTS probes deliveries_call.
        self.claim = try database.prepare(
            """
            UPDATE deliveries SET state = 1, attempts = attempts + 1
            WHERE id IN (
                SELECT d.id FROM deliveries AS d
                WHERE d.state IN (0, 2) AND d.next_attempt_at <= ?1
                  AND NOT EXISTS (
                      SELECT 1 FROM deliveries AS e
                      WHERE e.endpoint = d.endpoint AND e.call_key = d.call_key AND e.state < 3 AND e.id < d.id
                  )
                ORDER BY d.next_attempt_at, d.id LIMIT ?2
            )
            RETURNING id, event_id, event, endpoint, call_key, request_url, body, attempts, created_at
            """
        )
        self.delete = try database.prepare("DELETE FROM deliveries WHERE id = ?")
        self.retry = try database.prepare(
            "UPDATE deliveries SET state = 2, next_attempt_at = ?2, last_status = ?3, last_error = ?4 WHERE id = ?1"
        )
        // Later events of the call cannot go before the retried one; keeping them from looking due
        // spares the claim query from stepping over them until then. Written as a join so that it
        // walks deliveries_call (the call's rows), not every row after the retried one.
        self.holdBackFollowers = try database.prepare(
            """
            UPDATE deliveries SET next_attempt_at = max(next_attempt_at, ?2)
            WHERE state IN (0, 2) AND id IN (
                SELECT later.id FROM deliveries AS retried
                JOIN deliveries AS later
                  ON later.endpoint = retried.endpoint AND later.call_key = retried.call_key
                 AND later.state < 3 AND later.id > retried.id
                WHERE retried.id = ?1
            )
            """
        )
        self.dead = try database.prepare("UPDATE deliveries SET state = 3, last_status = ?2, last_error = ?3 WHERE id = ?1")
        self.resetInFlight = try database.prepare("UPDATE deliveries SET state = 0 WHERE state = 1")
        self.release = try database.prepare("UPDATE deliveries SET state = 0, attempts = attempts - 1 WHERE id = ? AND state = 1")
        self.nextAttempt = try database.prepare(
            "SELECT min(next_attempt_at) FROM deliveries WHERE state IN (0, 2) AND next_attempt_at > ?"
        )
        self.hold = try database.prepare("INSERT OR REPLACE INTO held_calls (kind, call_key, payload, deadline) VALUES (?, ?, ?, ?)")
        self.releaseHeld = try database.prepare("DELETE FROM held_calls WHERE kind = ? AND call_key = ?")
        self.selectHeld = try database.prepare("SELECT call_key, payload, deadline FROM held_calls WHERE kind = ? ORDER BY deadline")
    }

    func writeDeadLetter(_ delivery: OutboxNewDelivery, attempts: Int, status: Int?, error: String, now: Date) throws {
        let time = SQLiteValue.integer(Outbox.milliseconds(now))
        try self.insertDead.run([
            .text(delivery.eventID.lowercaseText), .text(delivery.event.rawValue), .text(delivery.endpoint), .text(delivery.callKey),
            .optionalText(delivery.requestURL), .blob(delivery.body), .integer(Int64(attempts)), time, time,
            status.map { .integer(Int64($0)) } ?? .null, .text(error),
        ])
    }

    /// Releases first, then holds: a batch may release a call from one wait and hold it for the next.
    func write(_ batch: OutboxBatch, now: Date) throws {
        let time = SQLiteValue.integer(Outbox.milliseconds(now))
        try self.database.transaction {
            for delivery in batch.deliveries {
                try self.insert.run([
                    .text(delivery.eventID.lowercaseText), .text(delivery.event.rawValue), .text(delivery.endpoint),
                    .text(delivery.callKey), .optionalText(delivery.requestURL), .blob(delivery.body), time, time,
                ])
            }
            for publication in batch.publications {
                try self.insertPublication.run([
                    .text(publication.eventID.lowercaseText), .text(publication.subject), .blob(publication.body), time,
                ])
            }
            for released in batch.releases {
                try self.releaseHeld.run([.text(released.kind.rawValue), .text(released.callKey)])
            }
            for held in batch.holds {
                try self.hold.run([
                    .text(held.kind.rawValue), .text(held.callKey), .blob(held.payload),
                    .integer(Int64((held.deadline * 1000).rounded())),
                ])
            }
        }
    }

    func claim(now: Date, limit: Int) throws -> [OutboxDelivery] {
        try self.withoutFsync {
            try self.database.transaction { try self.claimRows(now: now, limit: limit) }
        }
    }

    /// Outcomes first: a delivered row no longer holds back the next event of its call.
    func recordAndClaim(_ outcomes: [OutboxOutcome], now: Date, limit: Int) throws -> [OutboxDelivery] {
        try self.withoutFsync {
            try self.database.transaction {
                try self.recordRows(outcomes)
                return try self.claimRows(now: now, limit: limit)
            }
        }
    }

    /// Runs `body` with `synchronous=NORMAL`: its commits reach the WAL (safe from a process
    /// crash) but are fsynced only with the next `FULL` commit or checkpoint.
    private func withoutFsync<T>(_ body: () throws -> T) throws -> T {
        try self.synchronousNormal.run()
        defer { try? self.synchronousFull.run() }
        return try body()
    }

    /// Inside a transaction.
    private func claimRows(now: Date, limit: Int) throws -> [OutboxDelivery] {
        do {
            try self.claim.reset([.integer(Outbox.milliseconds(now)), .integer(limit)])
            var claimed: [OutboxDelivery] = []
            while try self.claim.step() {
                claimed.append(
                    OutboxDelivery(
                        id: self.claim.integer(0),
                        eventID: Outbox.eventID(self.claim.text(1)),
                        event: self.claim.text(2),
                        endpoint: self.claim.text(3),
                        callKey: self.claim.text(4),
                        requestURL: self.claim.optionalText(5),
                        body: self.claim.blob(6),
                        attempts: Int(self.claim.integer(7)),
                        createdAt: Outbox.date(self.claim.integer(8))
                    )
                )
            }
            // RETURNING gives rows in no promised order: hand them out oldest first.
            return claimed.sorted { $0.id < $1.id }
        }
    }

    func record(_ outcomes: [OutboxOutcome]) throws {
        try self.withoutFsync {
            try self.database.transaction { try self.recordRows(outcomes) }
        }
    }

    /// Inside a transaction.
    private func recordRows(_ outcomes: [OutboxOutcome]) throws {
        do {
            for outcome in outcomes {
                switch outcome {
                case .delivered(let id):
                    try self.delete.run([.integer(id)])
                case .retry(let id, let at, let status, let error):
                    let time = SQLiteValue.integer(Outbox.milliseconds(at))
                    try self.retry.run([.integer(id), time, status.map { .integer($0) } ?? .null, .text(error)])
                    try self.holdBackFollowers.run([.integer(id), time])
                case .dead(let id, let status, let error):
                    try self.dead.run([.integer(id), status.map { .integer($0) } ?? .null, .text(error)])
                case .released(let id):
                    try self.release.run([.integer(id)])
                }
            }
        }
    }
}

/// The thread behind ``Outbox/enqueue(_:)``: whatever arrives while it commits goes into
/// the next transaction, so N concurrent emitters cost one fsync, not N.
private final class GroupCommit: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queued: [(OutboxBatch, CheckedContinuation<Void, any Error>)] = []
    private var stopping = false

    func start(outbox: Outbox) {
        // Unowned: the thread must not keep the outbox alive; the outbox stops it in deinit.
        let thread = Thread { [unowned outbox] in
            Thread.current.name = "amib.commit"
            while let batch = self.next() { outbox.commit(batch) }
        }
        thread.start()
    }

    func submit(_ batch: OutboxBatch, _ continuation: CheckedContinuation<Void, any Error>) {
        self.condition.lock()
        self.queued.append((batch, continuation))
        self.condition.signal()
        self.condition.unlock()
    }

    func stop() {
        self.condition.lock()
        self.stopping = true
        self.condition.signal()
        self.condition.unlock()
    }

    /// Waits for work; nil once stopped with nothing left.
    private func next() -> [(OutboxBatch, CheckedContinuation<Void, any Error>)]? {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.queued.isEmpty && !self.stopping { self.condition.wait() }
        guard !self.queued.isEmpty else { return nil }
        defer { self.queued.removeAll(keepingCapacity: true) }
        return self.queued
    }
}
