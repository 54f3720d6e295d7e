/// When ViciDial writes which row for a call (FACTS.md "When rows appear and change"), as timed
/// ``ViciDialRowWrite``s: pure, from the call's plan and the times its events carry.
///
/// - auto-dial (`V` caller code): the lead is in the hopper before the call; the `vicidial_log`
///   row is inserted at the customer's answer (QUEUE, VDAD), taken by the agent at once (INCALL);
///   the recording and the agent-log talk start then;
/// - manual dial / click-to-call (`M` code): the row is inserted INCALL with the agent once the
///   customer's line rings;
/// - the hangup updates end_epoch, length_in_sec, term_reason (CALLER or AGENT), INCALL → DISPO;
/// - the disposition lands seconds later on the lead, the log row and the agent log, or never;
/// - an unanswered attempt gets its row from the dialer's sweep a few seconds after it ended,
///   with its final status (B, NA, DC) and no length.
public enum ViciDialRowPlan {
    public static func writes(for script: CallScript, serverIP: String) -> [(at: Double, write: ViciDialRowWrite)] {
        let call = script.call
        var writes: [(at: Double, write: ViciDialRowWrite)] = []
        let user = call.agent.user
        if call.ownsLead {
            writes.append((call.startedAt - 0.001, .insertLead(leadID: call.leadID, listID: call.listID, phoneNumber: call.phoneNumber,
                                                                firstName: call.firstName, lastName: call.lastName, at: call.startedAt)))
            writes.append((call.startedAt, .leadDialed(leadID: call.leadID, status: "INCALL", at: call.startedAt)))
        }
        guard call.leadID > 0, let uniqueid = script.customerUniqueid else { return writes }
        let manual = call.callerIDName.first == "M" || call.originate != nil
        var row = CallLogRow(uniqueid: uniqueid, leadID: call.leadID, listID: call.listID, campaignID: call.campaignID, phoneNumber: call.phoneNumber,
                             callerCode: call.callerIDName, user: user, status: "INCALL", startEpoch: call.startedAt, endEpoch: nil)
        guard let answeredAt = script.customerAnsweredAt else {
            // The sweep logs the unanswered attempt; the lead gets the same status.
            let sweep = script.endedAt + (call.dispositionDelaySeconds ?? 3)
            row.user = manual ? user : "VDAD"
            row.status = call.disposition
            row.endEpoch = script.endedAt
            writes.append((sweep, .insertCallLog(row)))
            if call.ownsLead { writes.append((sweep, .leadDialed(leadID: call.leadID, status: call.disposition, at: sweep))) }
            return writes
        }
        let callerCode = call.callerIDName
        if manual, let ringing = script.customerRingingAt {
            row.startEpoch = ringing
            writes.append((ringing, .insertCallLog(row)))
        } else {
            row.user = "VDAD"
            row.status = "QUEUE"
            row.startEpoch = answeredAt
            writes.append((answeredAt, .insertCallLog(row)))
            writes.append((answeredAt + 0.2, .agentTakesCall(uniqueid: uniqueid, user: user)))
        }
        writes.append((answeredAt + 0.2, .liveAgent(user: user, status: "INCALL", leadID: call.leadID, uniqueid: uniqueid, callerCode: callerCode,
                                                    channel: script.agentChannel, at: answeredAt)))
        writes.append((answeredAt + 0.2, .agentLogTalk(user: user, leadID: call.leadID, campaignID: call.campaignID, uniqueid: uniqueid,
                                                       serverIP: serverIP, waitEpoch: call.startedAt, talkEpoch: answeredAt)))
        let filename = "\(ScriptWriter.compactDateTime(answeredAt))_\(call.phoneNumber)_\(user)"
        writes.append((answeredAt + 0.3, .recordingStarted(channel: script.agentChannel, serverIP: serverIP, leadID: call.leadID, user: user,
                                                           vicidialID: uniqueid, filename: filename, at: answeredAt)))
        let ended = script.endedAt
        writes.append((ended, .callEnded(uniqueid: uniqueid, endEpoch: ended, termReason: script.hungUpFirst == .agent ? "AGENT" : "CALLER")))
        writes.append((ended, .recordingEnded(vicidialID: uniqueid, at: ended)))
        writes.append((ended, .agentLogHangup(user: user, uniqueid: uniqueid, talkSeconds: Int(ended - answeredAt), dispoEpoch: ended)))
        writes.append((ended, .liveAgent(user: user, status: "PAUSED", leadID: call.leadID, uniqueid: uniqueid, callerCode: callerCode,
                                         channel: "", at: ended)))
        if let delay = call.dispositionDelaySeconds {
            writes.append((ended + delay, .dispose(leadID: call.leadID, user: user, uniqueid: uniqueid, status: call.disposition, at: ended + delay)))
        }
        // Back to READY once the dispo screen is done (or abandoned).
        writes.append((ended + (call.dispositionDelaySeconds ?? 5) + 0.1, .liveAgent(user: user, status: "READY", leadID: 0, uniqueid: "",
                                                                                    callerCode: "", channel: "", at: ended)))
        return writes
    }
}
