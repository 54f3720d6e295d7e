import EventMapper
import MariaDB

extension ViciDialRepository {
    /// What ViciDial knows of each answered call (agent, lead), for the calls it knows anything
    /// about: ONE statement for all of them (per ``Configuration/maximumKeysPerQuery`` keys),
    /// the live agents on the calls (by uniqueid or caller code) and the calls' log rows (matched
    /// as ``findCallRows(for:)`` matches them), each with its lead.
    public func findAnswerData(for calls: [CallRecord]) async throws -> [CallKey: ViciDialAnswerData] {
        var found: [CallKey: ViciDialAnswerData] = [:]
        // Each call's uniqueids are bound three times (agents, vicidial_log, vicidial_closer_log): as
        // many values per statement as the row lookup's two tables bind.
        for batch in Self.batches(calls, maximumKeys: 2 * configuration.maximumKeysPerQuery, keys: { 3 * ($0.uniqueids.count + 1) }) {
            let (agents, rows) = try await answerCandidates(for: batch)
            let matched = ViciDialCallMatch.match(calls: batch, candidates: rows, window: configuration.leadMatchWindow)
            for call in batch {
                let codes = call.callerCode.map { [$0.code] } ?? []
                let agent = agents.first { $0.uniqueid.map(call.uniqueids.contains) == true || $0.callerID.map(codes.contains) == true }
                let row = matched[CallKey(call)]
                guard agent != nil || row != nil else { continue }
                found[CallKey(call)] = Self.answerData(agent: agent, row: row)
            }
        }
        return found
    }

    /// The log row's values first (its campaign is the in-group for inbound), the live agent for
    /// the agent (the one the call reached) and the lead when there is no row yet.
    static func answerData(agent: AgentOnCall?, row: ViciDialCallData?) -> ViciDialAnswerData {
        var data = ViciDialAnswerData(agentUser: agent?.user ?? row?.agentUser)
        data.leadID = row?.leadID ?? agent?.leadID
        let lead = row?.lead ?? agent?.lead
        data.listID = row?.listID ?? lead?.listID
        data.campaignID = row?.campaignID ?? agent?.campaignID
        data.phoneCode = row?.phoneCode ?? lead?.phoneCode
        data.phoneNumber = row?.phoneNumber ?? lead?.phoneNumber
        data.firstName = lead?.firstName
        data.lastName = lead?.lastName
        data.vendorLeadCode = lead?.vendorLeadCode
        data.closeCallID = row?.closeCallID
        return data
    }

    /// An agent's `vicidial_live_agents` row naming a call.
    struct AgentOnCall: Sendable {
        var user: String?
        var leadID: Int64?
        var campaignID: String?
        var uniqueid: String?
        var callerID: String?
        var lead: ViciDialLead?
    }

    private func answerCandidates(for calls: [CallRecord]) async throws -> (agents: [AgentOnCall], rows: [ViciDialCallData]) {
        let uniqueids = Array(Set(calls.flatMap(\.uniqueids)))
        let codes = Array(Set(calls.compactMap { $0.callerCode?.code }))
        var agentConditions: [String] = []
        var agentParameters: [MariaDBValue] = []
        if !uniqueids.isEmpty {
            agentConditions.append("a.uniqueid IN (\(ViciDialSQL.placeholders(uniqueids.count)))")
            agentParameters += uniqueids.map { .string($0) }
        }
        if !codes.isEmpty {
            agentConditions.append("a.callerid IN (\(ViciDialSQL.placeholders(codes.count)))")
            agentParameters += codes.map { .string($0) }
        }
        guard !agentConditions.isEmpty, let (rowCondition, rowParameters) = callRowCondition(for: calls, table: "r") else { return ([], []) }
        let lead = "l.list_id AS lead_list_id, l.phone_code AS lead_phone_code, l.phone_number AS lead_phone_number, l.first_name, l.last_name, l.vendor_lead_code"
        let rowColumns = "r.uniqueid, NULL AS callerid, r.lead_id, r.list_id, r.campaign_id, r.user, r.phone_code, r.phone_number, r.start_epoch"
        let sql = """
            SELECT 'agent' AS source, NULL AS closecallid, a.uniqueid, a.callerid, a.lead_id, NULL AS list_id, a.campaign_id, a.user,
                   NULL AS phone_code, NULL AS phone_number, NULL AS start_epoch, \(lead)
            FROM vicidial_live_agents a LEFT JOIN vicidial_list l ON l.lead_id = a.lead_id
            WHERE a.lead_id > 0 AND (\(agentConditions.joined(separator: " OR ")))
            UNION ALL
            SELECT 'outbound' AS source, NULL AS closecallid, \(rowColumns), \(lead)
            FROM vicidial_log r LEFT JOIN vicidial_list l ON l.lead_id = r.lead_id WHERE \(rowCondition)
            UNION ALL
            SELECT 'inbound' AS source, r.closecallid, \(rowColumns), \(lead)
            FROM vicidial_closer_log r LEFT JOIN vicidial_list l ON l.lead_id = r.lead_id WHERE \(rowCondition)
            """
        var agents: [AgentOnCall] = []
        var rows: [ViciDialCallData] = []
        for row in try await database.query(sql, agentParameters + rowParameters + rowParameters) {
            let leadID = try row.int("lead_id")
            var lead: ViciDialLead?
            if let leadID, let listID = try row.int("lead_list_id") {
                var read = ViciDialLead(leadID: leadID)
                read.listID = listID
                read.phoneCode = try row.string("lead_phone_code")
                read.phoneNumber = try row.string("lead_phone_number")
                read.firstName = try row.string("first_name")
                read.lastName = try row.string("last_name")
                read.vendorLeadCode = try row.string("vendor_lead_code")
                lead = read
            }
            let source = try row.string("source")
            if source == "agent" {
                agents.append(AgentOnCall(
                    user: ViciDialCallData.agent(try row.string("user")), leadID: leadID, campaignID: try row.string("campaign_id"),
                    uniqueid: try row.string("uniqueid").flatMap { $0.isEmpty ? nil : $0 },
                    callerID: try row.string("callerid").flatMap { $0.isEmpty ? nil : $0 }, lead: lead
                ))
                continue
            }
            let uniqueid = try row.string("uniqueid") ?? ""
            let rowID: ViciDialRowID = if source == "inbound", let id = try row.int("closecallid") { .inbound(closeCallID: id) } else { .outbound(uniqueid: uniqueid) }
            var data = ViciDialCallData(rowID: rowID, uniqueid: uniqueid, leadID: leadID ?? 0)
            data.listID = try row.int("list_id")
            data.campaignID = try row.string("campaign_id")
            data.user = try row.string("user")
            data.phoneCode = try row.string("phone_code")
            data.phoneNumber = try row.string("phone_number")
            data.startEpoch = try row.int("start_epoch")
            data.lead = lead
            rows.append(data)
        }
        return (agents, rows)
    }
}
