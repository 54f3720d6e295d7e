import MariaDB
/// A lower bound on a recording's start.
public enum ViciDialTimeBound: Sendable, Hashable {
    /// `YYYY-MM-DD HH:MM:SS` in the database server's local time, the clock ViciDial writes
    /// `start_time` in: what a date or a datetime without a UTC offset means.
    case localTime(String)
    /// Seconds since 1970 UTC: a datetime with an offset is an instant, compared with
    /// `start_epoch` so the server's time zone does not matter.
    case epoch(Int64)
}

extension ViciDialRepository {
    /// The recordings of calls with leads whose number is `phoneNumber`, newest first, at most `limit`.
    ///
    /// `recording_log` has no phone number: recordings are found through their lead
    /// (`vicidial_list.phone_number`). ViciDial keeps the country code apart in `phone_code`, so
    /// a number given with one (`+1 800 555 1234`, or `18005551234`) also matches the lead stored
    /// as phone_code `1` + `8005551234`; the index on `phone_number` serves every candidate.
    public func recordings(phoneNumber: PhoneNumber, since: ViciDialTimeBound? = nil, limit: Int = 100) async throws -> [ViciDialRecording] {
        let digits = phoneNumber.digits
        // A country code has 1-3 digits; the national number that stays has at least 6 (ViciDial's minimum).
        let nationalCandidates = (1...3).filter { digits.count - $0 >= 6 }.map { String(digits.dropFirst($0)) }
        var condition = "l.phone_number = ?"
        var parameters: [MariaDBValue] = [.string(digits)]
        if !nationalCandidates.isEmpty {
            condition = """
                (\(condition) OR (l.phone_number IN (\(ViciDialSQL.placeholders(nationalCandidates.count))) \
                AND CONCAT(l.phone_code, l.phone_number) = ?))
                """
            parameters += nationalCandidates.map { .string($0) } + [.string(digits)]
        }
        switch since {
        case .localTime(let time)?:
            condition += " AND r.start_time >= ?"
            parameters.append(.string(time))
        case .epoch(let epoch)?:
            condition += " AND r.start_epoch >= ?"
            parameters.append(.int(epoch))
        case nil:
            break
        }
        let sql = """
            SELECT \(ViciDialRecording.columnsWithCall(recording: "r"))
            FROM recording_log r JOIN vicidial_list l ON l.lead_id = r.lead_id \(ViciDialRecording.callJoins(recording: "r", lead: false))
            WHERE \(condition)
            ORDER BY r.start_time DESC, r.recording_id DESC
            LIMIT ?
            """
        return try await database.query(sql, parameters + [.int(Int64(max(0, limit)))]).compactMap(ViciDialRecording.init(callRow:))
    }

    /// The first recording of the call whose uniqueid is `uniqueid` (a call recorded in parts has
    /// several; the webhook's `recording_filename` is this one too); nil when there is none.
    ///
    /// Outbound recordings carry the uniqueid in `vicidial_id`; inbound ones carry the
    /// `vicidial_closer_log.closecallid`, found by the row's uniqueid in a second statement (one
    /// statement comparing the two would mix collations or give up the `vicidial_id` index).
    public func recording(uniqueid: String) async throws -> ViciDialRecording? {
        if let outbound = try await firstRecording(vicidialIDs: [uniqueid]) { return outbound }
        let closeCallIDs = try await database.query(
            "SELECT closecallid FROM vicidial_closer_log WHERE uniqueid = ?", [.string(uniqueid)]
        ).compactMap { try $0.string("closecallid") }
        return try await firstRecording(vicidialIDs: closeCallIDs)
    }

    private func firstRecording(vicidialIDs: [String]) async throws -> ViciDialRecording? {
        guard !vicidialIDs.isEmpty else { return nil }
        let sql = """
            SELECT \(ViciDialRecording.columnsWithCall(recording: "r")) FROM recording_log r \(ViciDialRecording.callJoins(recording: "r"))
            WHERE r.vicidial_id IN (\(ViciDialSQL.placeholders(vicidialIDs.count)))
            ORDER BY r.start_time, r.recording_id LIMIT 1
            """
        return try await database.query(sql, vicidialIDs.map { .string($0) }).first.flatMap(ViciDialRecording.init(callRow:))
    }

    /// The recording `recordingID`, with its call's number and date; nil when there is none.
    public func recording(id recordingID: Int64) async throws -> ViciDialRecording? {
        let sql = """
            SELECT \(ViciDialRecording.columnsWithCall(recording: "r")) FROM recording_log r \(ViciDialRecording.callJoins(recording: "r"))
            WHERE r.recording_id = ?
            """
        return try await database.query(sql, [.int(recordingID)]).first.flatMap(ViciDialRecording.init(callRow:))
    }
}
