import AMIProtocol

/// Catching up after an AMI outage: `CoreShowChannels` lists what is still up.
extension CallTracker {
    /// Compares the tracked calls with the channels Asterisk lists as live after a reconnect.
    /// Calls none of whose channels are still up ended during the outage: they complete now,
    /// marked `reconstructed` (their end time is unknown, so `endedAt` stays nil for the database
    /// to fill). Channels of a call that went away are marked hung up; live channels the tracker
    /// never saw become calls of their own, followed from here on.
    public mutating func reconcile(liveChannels: [AMIMessage], at time: Double) -> [CallUpdate] {
        var live: [String: ChannelSnapshot] = [:]
        var durations: [String: Double] = [:]
        for item in liveChannels {
            guard case .coreShowChannel(let snapshot, let seconds) = ChannelEvent(item) else { continue }
            live[snapshot.uniqueid] = snapshot
            durations[snapshot.uniqueid] = seconds
        }

        var updates: [CallUpdate] = []
        for slot in slots.indices {
            guard let call = slots[slot] else { continue }
            if !call.legs.contains(where: { live[$0.uniqueid] != nil }) {
                guard var ended = remove(slot) else { continue }
                completedKeys.insert(ended.key)
                if let actionID = ended.originateActionID { removeOriginate(actionID) }
                ended.announced = true
                var record = record(ended)
                record.reconstructed = true
                record.endedAt = nil
                updates.append(.completed(record))
                continue
            }
            for index in call.legs.indices where live[call.legs[index].uniqueid] == nil && call.legs[index].endedAt == nil {
                slots[slot]!.legs[index].hungUpAt = time
            }
            slots[slot]!.lastEventAt = time
        }

        // Channels that came up during the outage: all of them first, so a call is announced
        // with every leg it has.
        let unknown = live.filter { !isTracked($0.key) }.sorted { $0.key < $1.key }
        for (uniqueid, snapshot) in unknown {
            _ = apply(.newChannel(snapshot), at: time - (durations[uniqueid] ?? 0))
        }
        for (_, snapshot) in unknown {
            let progress: ChannelEvent = .newState(snapshot)
            updates += apply(progress, at: time).map { update in
                guard case .started(var record) = update else { return update }
                record.reconstructed = true
                return .started(record)
            }
        }
        return updates
    }

    /// `HH:MM:SS` as CoreShowChannel reports a channel's age.
    static func parseDuration(_ text: String) -> Double? {
        let parts = text.split(separator: ":").compactMap { Double($0) }
        // `nan:00:00` parses as numbers, but is no age; nor is a negative one, nor one of more
        // than 30 years (the call's start, now minus its age, must stay a time).
        guard parts.count == 3, parts.allSatisfy({ $0.isFinite && $0 >= 0 }) else { return nil }
        let seconds = parts[0] * 3600 + parts[1] * 60 + parts[2]
        return seconds < 1e9 ? seconds : nil
    }
}
