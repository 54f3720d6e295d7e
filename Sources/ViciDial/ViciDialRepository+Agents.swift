import MariaDB
extension ViciDialRepository {
    /// The agent's live state and today's work; nil for a user ViciDial does not know (neither in
    /// `vicidial_users` nor logged in). A known user who is not logged in has status
    /// ``ViciDialAgentStatus/loggedOut``. Two statements: the user with today's totals, the live row.
    ///
    /// "Today" is the database server's `CURDATE()`: ViciDial writes `event_time` in that clock,
    /// so the bridge's own clock or time zone cannot shift the day.
    public func agentStatus(user: String) async throws -> ViciDialAgentStatus? {
        // talk_sec and dead_sec are UNSIGNED: subtracting them unsigned fails on a negative result.
        let totals = """
            SELECT CURDATE() AS today,
                   (SELECT u.user FROM vicidial_users u WHERE u.user = ? LIMIT 1) AS known_user,
                   (SELECT u.full_name FROM vicidial_users u WHERE u.user = ? LIMIT 1) AS full_name,
                   COUNT(a.lead_id) AS calls,
                   COALESCE(SUM(GREATEST(CAST(COALESCE(a.talk_sec, 0) AS SIGNED) - CAST(COALESCE(a.dead_sec, 0) AS SIGNED), 0)), 0) AS talk
            FROM vicidial_agent_log a
            WHERE a.user = ? AND a.event_time >= CURDATE() AND a.event_time < CURDATE() + INTERVAL 1 DAY AND a.lead_id > 0
            """
        let live = """
            SELECT user, status, campaign_id, lead_id, pause_code, calls_today, last_state_change, server_ip, extension
            FROM vicidial_live_agents WHERE user = ? ORDER BY last_update_time DESC LIMIT 1
            """
        let name = MariaDBValue.string(user)
        guard let summary = try await database.query(totals, [name, name, name]).first else { return nil }
        let liveRow = try await database.query(live, [name]).first
        guard let storedUser = try liveRow?.string("user") ?? summary.string("known_user") else { return nil }

        var status = ViciDialAgentStatus(
            user: storedUser,
            status: ViciDialAgentStatus.loggedOut,
            today: try summary.string("today") ?? "",
            callsToday: try summary.int("calls") ?? 0,
            talkSecondsToday: try summary.lenientInt("talk") ?? 0
        )
        status.fullName = try summary.string("full_name")
        if let liveRow {
            status.status = try liveRow.string("status") ?? status.status
            var live = ViciDialAgentStatus.Live()
            live.campaignID = try liveRow.string("campaign_id").flatMap { $0.isEmpty ? nil : $0 }
            live.leadID = try liveRow.int("lead_id").flatMap { $0 > 0 ? $0 : nil }
            live.pauseCode = try liveRow.string("pause_code").flatMap { $0.isEmpty ? nil : $0 }
            live.callsToday = try liveRow.int("calls_today")
            live.lastStateChange = try liveRow.string("last_state_change")
            live.serverIP = try liveRow.string("server_ip")
            live.phoneChannel = try liveRow.string("extension")
            status.live = live
        }
        return status
    }

    /// The phone to ring for `user` (click-to-call's agent leg); nil when the user does not exist,
    /// has no `phone_login`, or no active phone has that login. When several phones share the
    /// login (one per server), the first by server IP and extension is taken.
    public func agentPhone(user: String) async throws -> AgentPhone? {
        let sql = """
            SELECT u.user, u.phone_login, p.extension, p.dialplan_number, p.server_ip, p.protocol
            FROM vicidial_users u
            JOIN phones p ON p.login = u.phone_login
            WHERE u.user = ? AND u.phone_login <> '' AND COALESCE(p.active, 'Y') = 'Y'
            ORDER BY p.server_ip, p.extension
            """
        for row in try await database.query(sql, [.string(user)]) {
            guard let storedUser = try row.string("user"), let login = try row.string("phone_login"),
                  let serverIP = try row.string("server_ip")
            else { continue }
            let phoneProtocol = try row.string("protocol") ?? "SIP"
            let phoneExtension = try row.string("extension") ?? ""
            let dialplanNumber = try row.string("dialplan_number")
            guard let channel = AgentPhone.channel(protocol: phoneProtocol, extension: phoneExtension, dialplanNumber: dialplanNumber) else { continue }
            return AgentPhone(
                user: storedUser, phoneLogin: login, channel: channel, serverIP: serverIP,
                phoneProtocol: phoneProtocol, phoneExtension: phoneExtension, dialplanNumber: dialplanNumber
            )
        }
        return nil
    }
}
