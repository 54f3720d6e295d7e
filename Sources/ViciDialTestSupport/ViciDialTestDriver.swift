import EventMapper
import Foundation
import MariaDB
import Synchronization
import ViciDial

/// Writes rows the way ViciDial does (row on answer, hangup update, dispo later), as MariaDB's
/// root, so tests see the bridge's read-only user find them. Every id it makes is unique, so
/// tests running in parallel on the shared database only ever see their own rows.
public struct ViciDialTestDriver: Sendable {
    public let root: MariaDBClient

    public init(configuration: MariaDBConnection.Configuration? = nil) throws {
        root = MariaDBClient(configuration: try configuration ?? TestDatabase.rootConfiguration())
    }

    /// The bridge's view: its least-privilege user.
    public static func repository(window: Double = 120) throws -> ViciDialRepository {
        ViciDialRepository(
            database: MariaDBClient(configuration: try TestDatabase.socketConfiguration()),
            configuration: .init(leadMatchWindow: window)
        )
    }

    /// An epoch no other test uses for its calls (tests also look up by time windows).
    public static func epoch() -> Int { Int.random(in: 1_000_000_000...1_700_000_000) }
    public static func uniqueid(_ epoch: Int) -> String { "\(epoch).\(Int.random(in: 1...9_999_999))" }
    public static func campaign() -> String { "C" + String(Int.random(in: 1_000_000...9_999_999)) }
    public static func status() -> String { "S" + String(Int.random(in: 10_000...99_999)) }

    @discardableResult
    public func insertLead(firstName: String = "Ada", lastName: String = "Lovelace", phone: String = TestDatabase.uniquePhoneNumber(),
                    comments: String? = nil, vendorLeadCode: String? = "VL-1", phoneCode: String = "1") async throws -> Int64 {
        let result = try await root.execute(
            """
            INSERT INTO vicidial_list (phone_number, first_name, last_name, comments, vendor_lead_code, source_id, email,
                                       address1, city, state, postal_code, list_id, status, entry_date, phone_code)
            VALUES (?, ?, ?, ?, ?, 'web', 'ada@example.com', '1 Analytical Way', 'London', 'LD', 'N1 9GU', 101, 'NEW', NOW(), ?)
            """,
            [.string(phone), .string(firstName), .string(lastName), comments.map { .string($0) } ?? .null,
             vendorLeadCode.map { .string($0) } ?? .null, .string(phoneCode)]
        )
        return Int64(result.lastInsertID)
    }

    /// Outbound answered: manual dial inserts INCALL with the agent; auto-dial inserts QUEUE/VDAD.
    public func answerOutbound(uniqueid: String, leadID: Int64, campaign: String, user: String = "VDAD", status: String = "QUEUE",
                        phone: String = "18005551234", at epoch: Int, comments: String? = nil) async throws {
        _ = try await root.execute(
            """
            INSERT INTO vicidial_log (uniqueid, lead_id, list_id, campaign_id, call_date, start_epoch, status, phone_code,
                                      phone_number, user, comments, processed, user_group, length_in_sec)
            VALUES (?, ?, 101, ?, FROM_UNIXTIME(?), ?, ?, '1', ?, ?, ?, 'N', 'AGENTS', 0)
            """,
            [.string(uniqueid), .int(leadID), .string(campaign), .int(Int64(epoch)), .int(Int64(epoch)), .string(status),
             .string(phone), .string(user), comments.map { .string($0) } ?? .null]
        )
    }

    public func agentTakes(uniqueid: String, user: String) async throws {
        _ = try await root.execute("UPDATE vicidial_log SET status = 'INCALL', user = ? WHERE uniqueid = ?", [.string(user), .string(uniqueid)])
    }

    /// The hangup update: end_epoch, length, term_reason; INCALL becomes DISPO (agent screen).
    public func hangUpOutbound(uniqueid: String, at epoch: Int, termReason: String = "CALLER") async throws {
        _ = try await root.execute(
            """
            UPDATE vicidial_log SET end_epoch = ?, length_in_sec = ? - start_epoch, term_reason = ?,
                   status = IF(status = 'INCALL', 'DISPO', status)
            WHERE uniqueid = ?
            """,
            [.int(Int64(epoch)), .int(Int64(epoch)), .string(termReason), .string(uniqueid)]
        )
    }

    /// The agent picks a disposition: the lead, the newest log row of that lead and user, the agent log.
    public func dispose(leadID: Int64, user: String, status: String, comments: String? = nil) async throws {
        _ = try await root.execute("UPDATE vicidial_list SET status = ?, comments = IFNULL(?, comments) WHERE lead_id = ?",
                                   [.string(status), comments.map { .string($0) } ?? .null, .int(leadID)])
        _ = try await root.execute(
            "UPDATE vicidial_log SET status = ? WHERE lead_id = ? AND user = ? ORDER BY call_date DESC LIMIT 1",
            [.string(status), .int(leadID), .string(user)]
        )
        _ = try await root.execute("UPDATE vicidial_agent_log SET status = ? WHERE lead_id = ? AND user = ?",
                                   [.string(status), .int(leadID), .string(user)])
    }

    public func answerInbound(uniqueid: String, leadID: Int64, ingroup: String, user: String, phone: String = "18005550000",
                       at epoch: Int) async throws -> Int64 {
        let result = try await root.execute(
            """
            INSERT INTO vicidial_closer_log (uniqueid, lead_id, list_id, campaign_id, call_date, start_epoch, status,
                                             phone_code, phone_number, user, queue_seconds, length_in_sec)
            VALUES (?, ?, 101, ?, FROM_UNIXTIME(?), ?, 'INCALL', '1', ?, ?, 3.5, 0)
            """,
            [.string(uniqueid), .int(leadID), .string(ingroup), .int(Int64(epoch)), .int(Int64(epoch)), .string(phone), .string(user)]
        )
        return Int64(result.lastInsertID)
    }

    public func hangUpInbound(closeCallID: Int64, at epoch: Int) async throws {
        _ = try await root.execute(
            "UPDATE vicidial_closer_log SET end_epoch = ?, length_in_sec = ? - start_epoch, term_reason = 'CALLER', status = 'DISPO' WHERE closecallid = ?",
            [.int(Int64(epoch)), .int(Int64(epoch)), .int(closeCallID)]
        )
    }

    public func disposeInbound(closeCallID: Int64, status: String) async throws {
        _ = try await root.execute("UPDATE vicidial_closer_log SET status = ? WHERE closecallid = ?", [.string(status), .int(closeCallID)])
    }

    public func insertAgentLog(user: String, leadID: Int64, campaign: String, uniqueid: String, talkEpoch: Int, talkSeconds: Int, deadSeconds: Int) async throws {
        _ = try await root.execute(
            """
            INSERT INTO vicidial_agent_log (user, server_ip, event_time, lead_id, campaign_id, talk_epoch, talk_sec, dead_sec, status, uniqueid)
            VALUES (?, '10.0.0.1', FROM_UNIXTIME(?), ?, ?, ?, ?, ?, NULL, ?)
            """,
            [.string(user), .int(Int64(talkEpoch)), .int(leadID), .string(campaign), .int(Int64(talkEpoch)),
             .int(Int64(talkSeconds)), .int(Int64(deadSeconds)), .string(uniqueid)]
        )
    }

    /// A recording as ViciDial logs it; with `seconds`, also its end (`end_time`, `end_epoch`, `length_in_sec`).
    @discardableResult
    public func insertRecording(vicidialID: String, leadID: Int64, filename: String, at epoch: Int, seconds: Int? = nil,
                         user: String = "agent", location: String? = nil) async throws -> Int64 {
        let end: MariaDBValue = seconds.map { .int(Int64(epoch + $0)) } ?? .null
        let result = try await root.execute(
            """
            INSERT INTO recording_log (channel, server_ip, extension, start_time, start_epoch, end_time, end_epoch, length_in_sec,
                                       filename, location, lead_id, user, vicidial_id)
            VALUES ('SIP/1001-0001', '10.0.0.1', '8309', FROM_UNIXTIME(?), ?, FROM_UNIXTIME(?), ?, ?, ?, ?, ?, ?, ?)
            """,
            [.int(Int64(epoch)), .int(Int64(epoch)), end, end, seconds.map { .int(Int64($0)) } ?? .null, .string(filename),
             .string(location ?? "/var/spool/asterisk/monitorDONE/\(filename).wav"), .int(leadID), .string(user), .string(vicidialID)]
        )
        return Int64(result.lastInsertID)
    }

    /// A database user like the bridge's with only `privileges` on `vicidial_list` (say, SELECT
    /// without INSERT: a deployment with the old read-only grants); remove it with ``dropUser(_:)``.
    public func createUser(granting privileges: String) async throws -> MariaDBConnection.Configuration {
        let name = "amib_t\(Int.random(in: 100_000_000...999_999_999))"
        _ = try await root.execute("CREATE USER '\(name)'@'localhost' IDENTIFIED BY 'test-password'")
        _ = try await root.execute("GRANT \(privileges) ON asterisk.vicidial_list TO '\(name)'@'localhost'")
        var configuration = try TestDatabase.socketConfiguration(password: "test-password")
        configuration.username = name
        return configuration
    }

    public func dropUser(_ configuration: MariaDBConnection.Configuration) async throws {
        _ = try await root.execute("DROP USER '\(configuration.username)'@'localhost'")
    }

    /// A user name no other test uses (ViciDial's are at most 20 characters).
    public static func user() -> String { "u" + String(Int.random(in: 100_000_000...999_999_999)) }

    public func insertUser(_ user: String, fullName: String = "Ada Lovelace", phoneLogin: String? = nil) async throws {
        _ = try await root.execute(
            "INSERT INTO vicidial_users (user, pass, full_name, user_level, user_group, phone_login, active) VALUES (?, 'secret', ?, 1, 'AGENTS', ?, 'Y')",
            [.string(user), .string(fullName), phoneLogin.map { .string($0) } ?? .null]
        )
    }

    /// The agent's `vicidial_live_agents` row, as the agent screen writes it at login and on each change.
    public func loginAgent(_ user: String, status: String = "READY", campaign: String = "SALES", leadID: Int64 = 0, pauseCode: String = "",
                    callsToday: Int = 0, lastStateChange: String = "2026-01-15 14:32:00", extension: String = "SIP/1001") async throws {
        _ = try await root.execute(
            """
            INSERT INTO vicidial_live_agents (user, server_ip, conf_exten, extension, status, lead_id, campaign_id, calls_today,
                                              pause_code, last_state_change)
            VALUES (?, '10.0.0.1', '8600051', ?, ?, ?, ?, ?, ?, ?)
            """,
            [.string(user), .string(`extension`), .string(status), .int(leadID), .string(campaign), .int(Int64(callsToday)),
             .string(pauseCode), .string(lastStateChange)]
        )
    }

    public func insertPhone(login: String, extension: String, protocol: String = "SIP", dialplanNumber: String? = nil,
                     serverIP: String = "10.0.0.1", active: String = "Y") async throws {
        _ = try await root.execute(
            "INSERT INTO phones (extension, dialplan_number, server_ip, login, pass, status, active, protocol, fullname) VALUES (?, ?, ?, ?, 'x', 'ACTIVE', ?, ?, 'Phone')",
            [.string(`extension`), dialplanNumber.map { .string($0) } ?? .null, .string(serverIP), .string(login), .string(active), .string(`protocol`)]
        )
    }

    public func defineCampaignStatus(campaign: String, status: String, sale: Bool, humanAnswered: Bool = true, category: String = "CONTACT") async throws {
        _ = try await root.execute(
            """
            INSERT INTO vicidial_campaign_statuses (status, status_name, selectable, campaign_id, human_answered, category, sale, customer_contact, completed)
            VALUES (?, 'Campaign status', 'Y', ?, ?, ?, ?, 'Y', 'Y')
            """,
            [.string(status), .string(campaign), .string(humanAnswered ? "Y" : "N"), .string(category), .string(sale ? "Y" : "N")]
        )
    }

    /// System-wide statuses are shared by every test: INSERT IGNORE keeps the first definition.
    public func defineSystemStatus(status: String, sale: Bool = false, dnc: Bool = false, category: String = "SYSTEM") async throws {
        _ = try await root.execute(
            "INSERT IGNORE INTO vicidial_statuses (status, status_name, selectable, human_answered, category, sale, dnc) VALUES (?, 'System status', 'Y', 'Y', ?, ?, ?)",
            [.string(status), .string(category), .string(sale ? "Y" : "N"), .string(dnc ? "Y" : "N")]
        )
    }
}

/// CallRecords as the tracker emits them.
public enum TestCalls {
    public static func callerCode(_ type: Character = "M", leadID: Int64) -> ViciDialCallerCode {
        ViciDialCallerCode(String(type) + "525141142" + String(format: "%010lld", leadID))!
    }

    public static func call(
        uniqueids: [String], start: Int, end: Int? = nil, callerCode: ViciDialCallerCode? = nil,
        phone: String? = "18005551234", server: String = "dialer1"
    ) -> CallRecord {
        let end = Double(end ?? start + 60)
        let legs = uniqueids.enumerated().map { index, uniqueid in
            CallLeg(uniqueid: uniqueid, channel: index == 0 ? "SIP/1001-0000000\(index)" : "SIP/carrier-0000000\(index)",
                    createdAt: Double(start), hungUpAt: end)
        }
        var call = CallRecord(server: server, linkedid: uniqueids.first ?? UUID().uuidString, legs: legs, startedAt: Double(start))
        call.endedAt = end
        call.callerCode = callerCode
        call.phoneNumber = phone
        return call
    }
}
