import EventMapper
/// Which candidate row belongs to which call: pure, so the join rules are tested without a
/// database. Rules, in order (FACTS.md "When rows appear and change"):
/// 1. a row whose uniqueid is one of the call's channels' uniqueids;
/// 2. a row of the caller code's lead whose uniqueid starts with one of the call's uniqueids'
///    epoch (`uniqueid LIKE '<epoch>.%'`, how ViciDial joins its own tables);
/// 3. a row of the caller code's lead whose `start_epoch` is within `window` seconds of the call's
///    start, the nearest one.
/// A caller code of type `Y` (inbound) prefers `vicidial_closer_log` rows when both tables match.
enum ViciDialCallMatch {
    static func match(
        calls: [CallRecord],
        candidates: [ViciDialCallData],
        window: Double
    ) -> [CallKey: ViciDialCallData] {
        var byUniqueid: [String: [ViciDialCallData]] = [:]
        var byLead: [Int64: [ViciDialCallData]] = [:]
        for row in candidates {
            if !row.uniqueid.isEmpty { byUniqueid[row.uniqueid, default: []].append(row) }
            byLead[row.leadID, default: []].append(row)
        }
        var matches: [CallKey: ViciDialCallData] = [:]
        for call in calls {
            if let row = best(of: call.uniqueids.flatMap { byUniqueid[$0] ?? [] }, for: call) {
                matches[CallKey(call)] = row
                continue
            }
            guard let leadID = call.callerCode?.leadID, let rows = byLead[Int64(leadID)] else { continue }
            let epochs = Set(call.uniqueids.compactMap(epochPrefix))
            if let row = best(of: rows.filter { epochPrefix($0.uniqueid).map(epochs.contains) ?? false }, for: call) {
                matches[CallKey(call)] = row
                continue
            }
            let inWindow = rows.filter { row in
                guard let start = row.startEpoch else { return false }
                return abs(Double(start) - call.startedAt) <= window
            }
            if let row = best(of: inWindow, for: call) { matches[CallKey(call)] = row }
        }
        return matches
    }

    /// `1700000000.` of `1700000000.123`; nil for values that are not an Asterisk uniqueid.
    static func epochPrefix(_ uniqueid: String) -> Substring? {
        guard let dot = uniqueid.firstIndex(of: "."), dot > uniqueid.startIndex,
              uniqueid[..<dot].allSatisfy(\.isASCII), uniqueid[..<dot].allSatisfy(\.isNumber)
        else { return nil }
        return uniqueid[...dot]
    }

    /// The table the caller code points at first, then the start nearest the call's.
    private static func best(of rows: [ViciDialCallData], for call: CallRecord) -> ViciDialCallData? {
        let wantsInbound = call.callerCode?.type == "Y"
        return rows.min { a, b in
            if a.isInbound != b.isInbound { return a.isInbound == wantsInbound }
            return distance(a, call) < distance(b, call)
        }
    }

    private static func distance(_ row: ViciDialCallData, _ call: CallRecord) -> Double {
        guard let start = row.startEpoch else { return .infinity }
        return abs(Double(start) - call.startedAt)
    }
}
