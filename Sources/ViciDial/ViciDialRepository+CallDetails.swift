import MariaDB
extension ViciDialRepository {
    /// Adds lead, recording, agent talk time, status flags and (inbound) the DID to rows found by
    /// ``findCallRows(for:)``: at most five statements for any number of rows, each keyed by an IN
    /// list. `callUniqueids` are the uniqueids of each row's call: an inbound row's DID is looked
    /// up by them too, since `vicidial_closer_log.uniqueid` may be empty.
    public func addDetails(to rows: [ViciDialCallData], callUniqueids: [ViciDialRowID: [String]] = [:]) async throws -> [ViciDialCallData] {
        guard !rows.isEmpty else { return [] }
        var result: [ViciDialCallData] = []
        let inboundUniqueids = { (row: ViciDialCallData) in
            ([row.uniqueid] + (callUniqueids[row.rowID] ?? [])).filter { !$0.isEmpty }
        }
        for batch in Self.batches(rows, maximumKeys: configuration.maximumKeysPerQuery, keys: { 1 + (callUniqueids[$0.rowID]?.count ?? 0) }) {
            let leads = try await leads(Set(batch.map(\.leadID)))
            let recordings = try await recordings(Set(batch.map(\.rowID.recordingKey)))
            let agentLogs = try await agentLogs(Set(batch.map(\.leadID)))
            let flags = try await statusFlags(Set(batch.compactMap(\.status)))
            let dids = try await didLogs(Set(batch.filter(\.isInbound).flatMap(inboundUniqueids)))
            for var row in batch {
                if row.isInbound { row.did = inboundUniqueids(row).lazy.compactMap { dids[$0] }.first }
                row.lead = leads[row.leadID]
                row.recording = recordings[row.rowID.recordingKey]
                row.agentTalkSeconds = Self.agentTalkSeconds(of: row, in: agentLogs[row.leadID] ?? [], window: configuration.leadMatchWindow)
                if let status = row.status {
                    row.statusFlags = Self.flags(for: status, campaignID: row.campaignID, in: flags)
                }
                result.append(row)
            }
        }
        return result
    }

    private func leads(_ ids: Set<Int64>) async throws -> [Int64: ViciDialLead] {
        let sql = """
            SELECT lead_id, list_id, status, user, vendor_lead_code, source_id, phone_code, phone_number, title,
                   first_name, middle_initial, last_name, address1, address2, address3, city, state, province,
                   postal_code, country_code, alt_phone, email, comments, owner, called_count
            FROM vicidial_list WHERE lead_id IN (\(ViciDialSQL.placeholders(ids.count)))
            """
        var leads: [Int64: ViciDialLead] = [:]
        for row in try await database.query(sql, ids.map { .int($0) }) {
            guard let id = try row.int("lead_id") else { continue }
            var lead = ViciDialLead(leadID: id)
            lead.listID = try row.int("list_id")
            lead.status = try row.string("status")
            lead.user = try row.string("user")
            lead.vendorLeadCode = try row.string("vendor_lead_code")
            lead.sourceID = try row.string("source_id")
            lead.phoneCode = try row.string("phone_code")
            lead.phoneNumber = try row.string("phone_number")
            lead.title = try row.string("title")
            lead.firstName = try row.string("first_name")
            lead.middleInitial = try row.string("middle_initial")
            lead.lastName = try row.string("last_name")
            lead.address1 = try row.string("address1")
            lead.address2 = try row.string("address2")
            lead.address3 = try row.string("address3")
            lead.city = try row.string("city")
            lead.state = try row.string("state")
            lead.province = try row.string("province")
            lead.postalCode = try row.string("postal_code")
            lead.countryCode = try row.string("country_code")
            lead.altPhone = try row.string("alt_phone")
            lead.email = try row.string("email")
            lead.comments = try row.string("comments")
            lead.owner = try row.string("owner")
            lead.calledCount = try row.int("called_count")
            leads[id] = lead
        }
        return leads
    }

    /// The DID each uniqueid came in on (`vicidial_did_log`; the newest row when a channel was
    /// routed by DIDs twice).
    private func didLogs(_ uniqueids: Set<String>) async throws -> [String: ViciDialDID] {
        guard !uniqueids.isEmpty else { return [:] }
        let sql = """
            SELECT uniqueid, extension, did_id, did_route FROM vicidial_did_log
            WHERE uniqueid IN (\(ViciDialSQL.placeholders(uniqueids.count)))
            ORDER BY call_date
            """
        var dids: [String: ViciDialDID] = [:]
        for row in try await database.query(sql, uniqueids.map { .string($0) }) {
            guard let uniqueid = try row.string("uniqueid"), let number = try row.string("extension"), !number.isEmpty else { continue }
            dids[uniqueid] = ViciDialDID(number: number, didID: try row.string("did_id"), route: try row.string("did_route"))
        }
        return dids
    }

    /// The first recording of each call (a call recorded in parts has several rows).
    private func recordings(_ keys: Set<String>) async throws -> [String: ViciDialRecording] {
        let sql = """
            SELECT \(ViciDialRecording.columns()) FROM recording_log
            WHERE vicidial_id IN (\(ViciDialSQL.placeholders(keys.count)))
            ORDER BY recording_id
            """
        var recordings: [String: ViciDialRecording] = [:]
        for row in try await database.query(sql, keys.map { .string($0) }) {
            guard let recording = try ViciDialRecording(row: row), let key = recording.vicidialID, recordings[key] == nil else { continue }
            recordings[key] = recording
        }
        return recordings
    }

    struct AgentLogRow: Sendable {
        var uniqueid: String?
        var user: String?
        var talkEpoch: Int64?
        var talkSeconds: Int64
    }

    private func agentLogs(_ leadIDs: Set<Int64>) async throws -> [Int64: [AgentLogRow]] {
        let sql = """
            SELECT lead_id, uniqueid, user, talk_epoch, talk_sec, dead_sec
            FROM vicidial_agent_log WHERE lead_id IN (\(ViciDialSQL.placeholders(leadIDs.count)))
            """
        var logs: [Int64: [AgentLogRow]] = [:]
        for row in try await database.query(sql, leadIDs.map { .int($0) }) {
            guard let lead = try row.int("lead_id") else { continue }
            let talk = try row.int("talk_sec") ?? 0
            let dead = try row.int("dead_sec") ?? 0
            logs[lead, default: []].append(
                AgentLogRow(
                    uniqueid: try row.string("uniqueid"), user: try row.string("user"),
                    talkEpoch: try row.int("talk_epoch"), talkSeconds: max(0, talk - dead)
                )
            )
        }
        return logs
    }

    /// The agent-log row of this call: the one with its uniqueid, else the same agent's talk that
    /// began nearest the call's start within the window (older ViciDial leaves `uniqueid` empty).
    static func agentTalkSeconds(of row: ViciDialCallData, in logs: [AgentLogRow], window: Double) -> Int64? {
        if !row.uniqueid.isEmpty, let exact = logs.first(where: { $0.uniqueid == row.uniqueid }) {
            return exact.talkSeconds
        }
        guard let start = row.startEpoch, let user = row.user else { return nil }
        return logs
            .filter { $0.user == user && $0.talkEpoch.map { abs(Double($0 - start)) <= window } == true }
            .min { abs($0.talkEpoch! - start) < abs($1.talkEpoch! - start) }?
            .talkSeconds
    }

    /// Both status tables in one statement; campaign definitions are told apart by `scope`.
    private func statusFlags(_ statuses: Set<String>) async throws -> [ViciDialStatusFlags] {
        guard !statuses.isEmpty else { return [] }
        let list = ViciDialSQL.placeholders(statuses.count)
        let sql = """
            SELECT s.campaign_id AS scope, \(ViciDialStatusFlags.selectList(table: "s", prefix: ""))
            FROM vicidial_campaign_statuses s WHERE s.status IN (\(list))
            UNION ALL
            SELECT NULL AS scope, \(ViciDialStatusFlags.selectList(table: "s", prefix: ""))
            FROM vicidial_statuses s WHERE s.status IN (\(list))
            """
        let values = statuses.map { MariaDBValue.string($0) }
        return try await database.query(sql, values + values).compactMap { row in
            try ViciDialStatusFlags(row: row, prefix: "", campaignID: try row.string("scope"))
        }
    }

    /// The campaign's own definition of the status, else the system one.
    static func flags(for status: String, campaignID: String?, in flags: [ViciDialStatusFlags]) -> ViciDialStatusFlags? {
        flags.first { $0.status == status && $0.campaignID != nil && $0.campaignID == campaignID }
            ?? flags.first { $0.status == status && $0.campaignID == nil }
    }
}
