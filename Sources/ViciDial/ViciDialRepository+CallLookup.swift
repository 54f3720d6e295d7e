import EventMapper
import MariaDB
extension ViciDialRepository {
    /// The `vicidial_log` / `vicidial_closer_log` row of each call that has one yet (details not
    /// read: see ``addDetails(to:)``). One statement for all the calls (per
    /// ``Configuration/maximumKeysPerQuery`` keys): candidates by uniqueid, and by caller-code
    /// lead within the time window; ``ViciDialCallMatch`` picks each call's row.
    public func findCallRows(for calls: [CallRecord]) async throws -> [CallKey: ViciDialCallData] {
        var matches: [CallKey: ViciDialCallData] = [:]
        for batch in Self.batches(calls, maximumKeys: configuration.maximumKeysPerQuery, keys: { $0.uniqueids.count + 1 }) {
            let candidates = try await candidateRows(for: batch)
            matches.merge(
                ViciDialCallMatch.match(calls: batch, candidates: candidates, window: configuration.leadMatchWindow)
            ) { first, _ in first }
        }
        return matches
    }

    private func candidateRows(for calls: [CallRecord]) async throws -> [ViciDialCallData] {
        guard let (condition, parameters) = callRowCondition(for: calls) else { return [] }
        let sql = """
            SELECT 'outbound' AS source, NULL AS closecallid, NULL AS queue_seconds, \(Self.callColumns) FROM vicidial_log WHERE \(condition)
            UNION ALL
            SELECT 'inbound' AS source, closecallid, queue_seconds, \(Self.callColumns) FROM vicidial_closer_log WHERE \(condition)
            """
        return try await database.query(sql, parameters + parameters).map(ViciDialCallData.init(callRow:))
    }

    /// The WHERE condition selecting the candidate log rows of `calls` (by uniqueid, and by
    /// caller-code lead within the window), for `vicidial_log` and `vicidial_closer_log` alike;
    /// nil when there is nothing to look for. `table` qualifies the columns when given.
    func callRowCondition(for calls: [CallRecord], table: String? = nil) -> (String, [MariaDBValue])? {
        let column = { (name: String) in table.map { "\($0).\(name)" } ?? name }
        let uniqueids = Array(Set(calls.flatMap(\.uniqueids)))
        let leadCalls = calls.filter { $0.callerCode != nil }
        let leadIDs = Array(Set(leadCalls.compactMap { $0.callerCode?.leadID }))
        var conditions: [String] = []
        var parameters: [MariaDBValue] = []
        if !uniqueids.isEmpty {
            conditions.append("\(column("uniqueid")) IN (\(ViciDialSQL.placeholders(uniqueids.count)))")
            parameters += uniqueids.map { .string($0) }
        }
        if !leadIDs.isEmpty {
            // The window bounds the lead's history: one range covering every call of the batch;
            // the per-call window is applied by ViciDialCallMatch.
            let window = configuration.leadMatchWindow
            let from = leadCalls.map(\.startedAt).min()! - window
            let to = (leadCalls.map { $0.endedAt ?? $0.startedAt }.max() ?? 0) + window
            conditions.append(
                "(\(column("lead_id")) IN (\(ViciDialSQL.placeholders(leadIDs.count))) AND \(column("start_epoch")) BETWEEN ? AND ?)"
            )
            parameters += leadIDs.map { .int(Int64($0)) } + [.int(Int64(from.rounded(.down))), .int(Int64(to.rounded(.up)))]
        }
        guard !conditions.isEmpty else { return nil }
        return (conditions.joined(separator: " OR "), parameters)
    }

    /// The columns `vicidial_log` and `vicidial_closer_log` share, as ``ViciDialCallData/init(callRow:)`` reads them.
    static let callColumns = """
        uniqueid, lead_id, list_id, campaign_id, user, status, phone_code, phone_number, term_reason, \
        length_in_sec, comments, call_date, start_epoch, end_epoch
        """

    /// Splits `items` so that no statement carries more than `maximumKeys` keys.
    static func batches<Item>(_ items: [Item], maximumKeys: Int, keys: (Item) -> Int) -> [[Item]] {
        var batches: [[Item]] = []
        var current: [Item] = []
        var count = 0
        for item in items {
            let itemKeys = keys(item)
            if !current.isEmpty, count + itemKeys > maximumKeys {
                batches.append(current)
                current = []
                count = 0
            }
            current.append(item)
            count += itemKeys
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }
}

extension ViciDialCallData {
    /// A row selected with `source`, `closecallid`, `queue_seconds` and ``ViciDialRepository/callColumns``.
    init(callRow row: MariaDBRow) throws {
        let uniqueid = try row.string("uniqueid") ?? ""
        let rowID: ViciDialRowID
        if try row.string("source") == "inbound", let closeCallID = try row.int("closecallid") {
            rowID = .inbound(closeCallID: closeCallID)
        } else {
            rowID = .outbound(uniqueid: uniqueid)
        }
        self.init(rowID: rowID, uniqueid: uniqueid, leadID: try row.int("lead_id") ?? 0)
        listID = try row.int("list_id")
        campaignID = try row.string("campaign_id")
        user = try row.string("user")
        status = try row.string("status")
        phoneCode = try row.string("phone_code")
        phoneNumber = try row.string("phone_number")
        termReason = try row.string("term_reason")
        lengthInSeconds = try row.lenientInt("length_in_sec")
        comments = try row.string("comments")
        callDate = try row.string("call_date")
        startEpoch = try row.int("start_epoch")
        endEpoch = try row.int("end_epoch")
        queueSeconds = try row.string("queue_seconds").flatMap(Double.init)
    }
}
