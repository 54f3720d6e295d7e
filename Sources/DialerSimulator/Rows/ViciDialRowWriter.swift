import Logging
import MariaDB
import NIOConcurrencyHelpers

/// Carries out ``ViciDialRowWrite``s on ViciDial's database, in order, on its own task: the
/// simulator hands writes over without waiting (``enqueue(_:)``), so the AMI stream never waits
/// on the database. The queue is bounded; when it is full, or the database is down, writes are
/// dropped and counted, the outage is logged once, and the writer carries on with the next write.
///
/// It needs INSERT and UPDATE on the tables ViciDial writes (`vicidial_list`, `vicidial_log`,
/// `vicidial_agent_log`, `recording_log`, `vicidial_live_agents`, `vicidial_users`, `phones`)
/// and DELETE on `vicidial_live_agents`: a ViciDial-like user, never the bridge's read-only one.
public final class ViciDialRowWriter: Sendable {
    /// Writes done, failed (database down or refusing) and dropped (queue full).
    public struct Counts: Sendable, Hashable {
        public var written = 0
        public var failed = 0
        public var dropped = 0
    }

    private let database: MariaDBClient
    /// The dialer's address, for the rows that carry one.
    private let serverIP: String
    private let logger: Logger
    private let stream: AsyncStream<ViciDialRowWrite>
    private let continuation: AsyncStream<ViciDialRowWrite>.Continuation
    private let state = NIOLockedValueBox((counts: Counts(), down: false))

    /// - Parameter queueLimit: writes held while the database is slow; more are dropped.
    public init(database: MariaDBClient, serverIP: String, queueLimit: Int = 100_000, logger: Logger) {
        self.database = database
        self.serverIP = serverIP
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: ViciDialRowWrite.self, bufferingPolicy: .bufferingOldest(queueLimit))
    }

    public var counts: Counts { state.withLockedValue { $0.counts } }

    /// Queues a write; never waits.
    public func enqueue(_ write: ViciDialRowWrite) {
        if case .dropped = continuation.yield(write) {
            state.withLockedValue { $0.counts.dropped += 1 }
        }
    }

    /// No more writes: ``run()`` returns once the queued ones are done.
    public func finish() { continuation.finish() }

    /// Writes until ``finish()`` (or cancellation).
    public func run() async {
        for await write in stream {
            do {
                for (sql, parameters) in Self.statements(for: write, serverIP: serverIP) {
                    _ = try await database.execute(sql, parameters)
                }
                let wasDown = state.withLockedValue { state in
                    state.counts.written += 1
                    defer { state.down = false }
                    return state.down
                }
                if wasDown { logger.notice("ViciDial database is back; writing rows again") }
            } catch is CancellationError {
                return
            } catch {
                let first = state.withLockedValue { state in
                    state.counts.failed += 1
                    defer { state.down = true }
                    return !state.down
                }
                if first { logger.warning("ViciDial database write failed; rows are skipped until it works again", metadata: ["error": "\(error)"]) }
            }
        }
    }

    /// The prepared statements (SQL with `?` and its values) of one write.
    static func statements(for write: ViciDialRowWrite, serverIP: String) -> [(String, [MariaDBValue])] {
        switch write {
        case .agentLogin(let agent, let campaign, let serverIP, let time):
            let login = "sim\(agent.phoneExtension)"
            return [
                ("INSERT IGNORE INTO vicidial_users (user, pass, full_name, user_level, user_group, phone_login, active) VALUES (?, 'simulated', ?, 1, 'AGENTS', ?, 'Y')",
                 [.string(agent.user), .string("Simulated \(agent.user)"), .string(login)]),
                ("INSERT IGNORE INTO phones (extension, dialplan_number, server_ip, login, pass, status, active, protocol, fullname) VALUES (?, ?, ?, ?, 'simulated', 'ACTIVE', 'Y', 'SIP', ?)",
                 [.string(agent.phoneExtension), .string(agent.phoneExtension), .string(serverIP), .string(login), .string(agent.user)]),
                ("DELETE FROM vicidial_live_agents WHERE user = ?", [.string(agent.user)]),
                ("""
                 INSERT INTO vicidial_live_agents (user, server_ip, conf_exten, extension, status, lead_id, campaign_id, uniqueid, callerid,
                                                   channel, last_call_time, last_state_change, calls_today, pause_code)
                 VALUES (?, ?, ?, ?, 'READY', 0, ?, '', '', '', FROM_UNIXTIME(?), FROM_UNIXTIME(?), 0, '')
                 """,
                 [.string(agent.user), .string(serverIP), .string("86000\(agent.phoneExtension)"), .string(agent.device), .string(campaign),
                  .int(Int64(time)), .int(Int64(time))]),
            ]
        case .agentLogout(let user):
            return [("DELETE FROM vicidial_live_agents WHERE user = ?", [.string(user)])]
        case .insertLead(let leadID, let listID, let phone, let first, let last, let time):
            return [("""
                     INSERT IGNORE INTO vicidial_list (lead_id, entry_date, status, list_id, phone_code, phone_number, first_name, last_name,
                                                       source_id, called_count, called_since_last_reset, gmt_offset_now, entry_list_id)
                     VALUES (?, FROM_UNIXTIME(?), 'NEW', ?, '1', ?, ?, ?, 'amibridge-simulate', 0, 'N', -5.00, ?)
                     """,
                     [.int(Int64(leadID)), .int(Int64(time)), .int(Int64(listID)), .string(phone), .string(first), .string(last), .int(Int64(listID))])]
        case .leadDialed(let leadID, let status, let time):
            return [("""
                     UPDATE vicidial_list SET status = ?, called_count = called_count + IF(? = 'INCALL', 1, 0),
                            called_since_last_reset = 'Y', last_local_call_time = FROM_UNIXTIME(?) WHERE lead_id = ?
                     """, [.string(status), .string(status), .int(Int64(time)), .int(Int64(leadID))])]
        case .insertCallLog(let row):
            // length_in_sec stays 0: the hangup update sets it, and the sweep's rows have none.
            return [
                ("""
                 INSERT IGNORE INTO vicidial_log (uniqueid, lead_id, list_id, campaign_id, call_date, start_epoch, end_epoch, length_in_sec,
                                                  status, phone_code, phone_number, user, processed, user_group, term_reason, alt_dial, called_count)
                 VALUES (?, ?, ?, ?, FROM_UNIXTIME(?), ?, ?, 0, ?, '1', ?, ?, 'N', 'AGENTS', 'NONE', 'MAIN', 1)
                 """,
                 [.string(row.uniqueid), .int(Int64(row.leadID)), .int(Int64(row.listID)), .string(row.campaignID), .int(Int64(row.startEpoch)),
                  .int(Int64(row.startEpoch)), row.endEpoch.map { .int(Int64($0)) } ?? .null, .string(row.status), .string(row.phoneNumber),
                  .string(row.user)]),
                ("""
                 INSERT IGNORE INTO vicidial_log_extended (uniqueid, server_ip, call_date, lead_id, caller_code, custom_call_id)
                 VALUES (?, ?, FROM_UNIXTIME(?), ?, ?, '')
                 """,
                 [.string(row.uniqueid), .string(serverIP), .int(Int64(row.startEpoch)), .int(Int64(row.leadID)), .string(row.callerCode)]),
            ]
        case .agentTakesCall(let uniqueid, let user):
            return [("UPDATE vicidial_log SET status = 'INCALL', user = ? WHERE uniqueid = ?", [.string(user), .string(uniqueid)])]
        case .callEnded(let uniqueid, let end, let termReason):
            return [("""
                     UPDATE vicidial_log SET end_epoch = ?, length_in_sec = ? - start_epoch, term_reason = ?,
                            status = IF(status = 'INCALL', 'DISPO', status)
                     WHERE uniqueid = ?
                     """, [.int(Int64(end)), .int(Int64(end)), .string(termReason), .string(uniqueid)])]
        case .dispose(let leadID, let user, let uniqueid, let status, let time):
            return [
                ("UPDATE vicidial_list SET status = ?, user = ? WHERE lead_id = ?", [.string(status), .string(user), .int(Int64(leadID))]),
                ("UPDATE vicidial_log SET status = ? WHERE lead_id = ? AND user = ? ORDER BY call_date DESC LIMIT 1",
                 [.string(status), .int(Int64(leadID)), .string(user)]),
                ("UPDATE vicidial_agent_log SET status = ?, dispo_sec = ? - dispo_epoch WHERE user = ? AND uniqueid = ?",
                 [.string(status), .int(Int64(time)), .string(user), .string(uniqueid)]),
            ]
        case .agentLogTalk(let user, let leadID, let campaign, let uniqueid, let serverIP, let wait, let talk):
            return [("""
                     INSERT INTO vicidial_agent_log (user, server_ip, event_time, lead_id, campaign_id, pause_epoch, pause_sec, wait_epoch, wait_sec,
                                                     talk_epoch, talk_sec, dispo_epoch, dispo_sec, status, user_group, sub_status, dead_epoch, dead_sec, uniqueid)
                     VALUES (?, ?, FROM_UNIXTIME(?), ?, ?, ?, 0, ?, ?, ?, 0, NULL, 0, NULL, 'AGENTS', NULL, NULL, 0, ?)
                     """,
                     [.string(user), .string(serverIP), .int(Int64(wait)), .int(Int64(leadID)), .string(campaign), .int(Int64(wait)), .int(Int64(wait)),
                      .int(Int64(talk - wait)), .int(Int64(talk)), .string(uniqueid)])]
        case .agentLogHangup(let user, let uniqueid, let talkSeconds, let dispoEpoch):
            return [("UPDATE vicidial_agent_log SET talk_sec = ?, dispo_epoch = ? WHERE user = ? AND uniqueid = ?",
                     [.int(Int64(talkSeconds)), .int(Int64(dispoEpoch)), .string(user), .string(uniqueid)])]
        case .recordingStarted(let channel, let serverIP, let leadID, let user, let vicidialID, let filename, let time):
            return [("""
                     INSERT INTO recording_log (channel, server_ip, extension, start_time, start_epoch, filename, location, lead_id, user, vicidial_id)
                     VALUES (?, ?, '8309', FROM_UNIXTIME(?), ?, ?, ?, ?, ?, ?)
                     """,
                     [.string(channel), .string(serverIP), .int(Int64(time)), .int(Int64(time)), .string(filename),
                      .string("/var/spool/asterisk/monitorDONE/MP3/\(filename)-all.mp3"), .int(Int64(leadID)), .string(user), .string(vicidialID)])]
        case .recordingEnded(let vicidialID, let time):
            return [("""
                     UPDATE recording_log SET end_time = FROM_UNIXTIME(?), end_epoch = ?, length_in_sec = ? - start_epoch,
                            length_in_min = ROUND((? - start_epoch) / 60, 2)
                     WHERE vicidial_id = ? AND end_epoch IS NULL
                     """, [.int(Int64(time)), .int(Int64(time)), .int(Int64(time)), .int(Int64(time)), .string(vicidialID)])]
        case .liveAgent(let user, let status, let leadID, let uniqueid, let callerCode, let channel, let time):
            let finished = status == "READY"
            return [("""
                     UPDATE vicidial_live_agents SET status = ?, lead_id = ?, uniqueid = ?, callerid = ?, channel = ?,
                            last_state_change = FROM_UNIXTIME(?),
                            last_call_time = IF(? = 'INCALL', FROM_UNIXTIME(?), last_call_time),
                            last_call_finish = IF(? = 'PAUSED', FROM_UNIXTIME(?), last_call_finish),
                            calls_today = calls_today + IF(? = 'INCALL', 1, 0)
                     WHERE user = ?
                     """,
                     [.string(status), .int(Int64(finished ? 0 : leadID)), .string(uniqueid), .string(callerCode), .string(channel),
                      .int(Int64(time)), .string(status), .int(Int64(time)), .string(status), .int(Int64(time)), .string(status), .string(user)])]
        }
    }
}
