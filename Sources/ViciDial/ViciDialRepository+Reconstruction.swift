import EventMapper
import MariaDB
extension ViciDialRepository {
    /// The calls ViciDial logged during an AMI outage that the tracker never saw, so none is
    /// silently missed: every `vicidial_log` / `vicidial_closer_log` row that started or ended in
    /// `from...to` (epoch seconds) and whose uniqueid is not in `knownUniqueids`.
    ///
    /// Each comes back as an ``EnrichedCall`` whose `call` is a ``CallRecord`` marked
    /// `reconstructed`, built from the row alone: one leg with the row's uniqueid (none when an
    /// inbound row has no uniqueid), times from `start_epoch`/`end_epoch`, the row's phone number,
    /// no caller code; `vicidial` carries the row with its details, since it cannot be looked up
    /// again by channel for rows without a uniqueid.
    public func missedCalls(
        server: String,
        from: Double,
        to: Double,
        knownUniqueids: Set<String>
    ) async throws -> [EnrichedCall] {
        let condition = "(start_epoch BETWEEN ? AND ?) OR (end_epoch BETWEEN ? AND ?)"
        let sql = """
            SELECT 'outbound' AS source, NULL AS closecallid, NULL AS queue_seconds, \(Self.callColumns) FROM vicidial_log WHERE \(condition)
            UNION ALL
            SELECT 'inbound' AS source, closecallid, queue_seconds, \(Self.callColumns) FROM vicidial_closer_log WHERE \(condition)
            ORDER BY start_epoch
            """
        let range: [MariaDBValue] = [.int(Int64(from.rounded(.down))), .int(Int64(to.rounded(.up)))]
        let parameters = range + range + range + range
        var seen = knownUniqueids
        let rows = try await database.query(sql, parameters).map(ViciDialCallData.init(callRow:)).filter { row in
            row.uniqueid.isEmpty || seen.insert(row.uniqueid).inserted
        }
        return try await addDetails(to: rows).map { row in
            EnrichedCall(call: CallRecord(reconstructedFrom: row, server: server), vicidial: row)
        }
    }
}

extension CallRecord {
    /// A call known only from its ViciDial row (see ``ViciDialRepository/missedCalls(server:from:to:knownUniqueids:)``).
    init(reconstructedFrom row: ViciDialCallData, server: String) {
        let start = Double(row.startEpoch ?? row.endEpoch ?? 0)
        let end = row.endEpoch.map(Double.init)
        let legs = row.uniqueid.isEmpty ? [] : [CallLeg(uniqueid: row.uniqueid, channel: "", createdAt: start, hungUpAt: end)]
        self.init(
            server: server,
            linkedid: row.uniqueid.isEmpty ? row.rowID.description : row.uniqueid,
            legs: legs,
            startedAt: start,
            endedAt: end,
            phoneNumber: row.phoneNumber
        )
        // ViciDial only counts length for answered calls (unanswered attempts are logged with 0).
        if let length = row.lengthInSeconds, length > 0 {
            answeredAt = start
            talkSeconds = Int(length)
            outcome = .answered
        }
        reconstructed = true
    }
}
