import MariaDB
extension ViciDialRepository {
    /// The current status of each row, with its flags and comments: ONE statement for all of
    /// them (per ``Configuration/maximumKeysPerQuery`` keys), outbound and inbound rows joined by
    /// UNION ALL, so a poll of thousands of waiting calls is a single round trip.
    public func dispositions(of rowIDs: some Collection<ViciDialRowID>) async throws -> [ViciDialRowID: ViciDialDispositionRow] {
        var rows: [ViciDialRowID: ViciDialDispositionRow] = [:]
        for batch in Self.batches(Array(Set(rowIDs)), maximumKeys: configuration.maximumKeysPerQuery, keys: { _ in 1 }) {
            for row in try await dispositionBatch(batch) { rows[row.rowID] = row }
        }
        return rows
    }

    private func dispositionBatch(_ rowIDs: [ViciDialRowID]) async throws -> [ViciDialDispositionRow] {
        var uniqueids: [MariaDBValue] = []
        var closeCallIDs: [MariaDBValue] = []
        for id in rowIDs {
            switch id {
            case .outbound(let uniqueid): uniqueids.append(.string(uniqueid))
            case .inbound(let closeCallID): closeCallIDs.append(.int(closeCallID))
            }
        }
        // The key columns stay apart (not one CAST column): a UNION of the closecallid cast to the
        // connection's collation and uniqueid in the table's is an "illegal mix of collations".
        func select(source: String, key: String, table: String, where condition: String) -> String {
            """
            SELECT '\(source)' AS source, \(key), v.status, v.user, v.comments, v.campaign_id,
                   l.comments AS lead_comments,
                   \(ViciDialStatusFlags.selectList(table: "cs", prefix: "cs_")),
                   \(ViciDialStatusFlags.selectList(table: "ss", prefix: "ss_"))
            FROM \(table) v
            LEFT JOIN vicidial_list l ON l.lead_id = v.lead_id
            LEFT JOIN vicidial_campaign_statuses cs ON cs.campaign_id = v.campaign_id AND cs.status = v.status
            LEFT JOIN vicidial_statuses ss ON ss.status = v.status
            WHERE \(condition)
            """
        }
        var parts: [String] = []
        if !uniqueids.isEmpty {
            parts.append(select(source: "outbound", key: "v.uniqueid AS uniqueid_key, NULL AS closecallid_key", table: "vicidial_log",
                                where: "v.uniqueid IN (\(ViciDialSQL.placeholders(uniqueids.count)))"))
        }
        if !closeCallIDs.isEmpty {
            parts.append(select(source: "inbound", key: "NULL AS uniqueid_key, v.closecallid AS closecallid_key", table: "vicidial_closer_log",
                                where: "v.closecallid IN (\(ViciDialSQL.placeholders(closeCallIDs.count)))"))
        }
        guard !parts.isEmpty else { return [] }
        let result = try await database.query(parts.joined(separator: "\nUNION ALL\n"), uniqueids + closeCallIDs)
        return try result.compactMap { row in
            let rowID: ViciDialRowID
            if try row.string("source") == "inbound" {
                guard let id = try row.int("closecallid_key") else { return nil }
                rowID = .inbound(closeCallID: id)
            } else {
                guard let uniqueid = try row.string("uniqueid_key") else { return nil }
                rowID = .outbound(uniqueid: uniqueid)
            }
            var disposition = ViciDialDispositionRow(rowID: rowID, status: try row.string("status"))
            disposition.user = try row.string("user")
            disposition.comments = try row.string("comments")
            disposition.leadComments = try row.string("lead_comments")
            let campaign = try row.string("campaign_id")
            disposition.flags = try ViciDialStatusFlags(row: row, prefix: "cs_", campaignID: campaign)
                ?? ViciDialStatusFlags(row: row, prefix: "ss_", campaignID: nil)
            return disposition
        }
    }
}
