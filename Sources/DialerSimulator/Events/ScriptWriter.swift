import Foundation

/// Accumulates one call's events with their times: a few microseconds apart within a burst, as
/// Asterisk writes them, and jumping ahead at each step of the call (``advance(to:)``).
struct ScriptWriter {
    var time: Double
    var events: [ScriptedEvent] = []

    init(time: Double) { self.time = time }

    mutating func advance(to next: Double) { time = max(time, next) }

    mutating func emit(_ name: String, _ body: String, privilege: String = "call,all", change: ChannelChange? = nil) {
        events.append(ScriptedEvent(at: time, text: AMIEventText.event(name, privilege: privilege, at: time, body), change: change))
        time += 0.000_013
    }

    /// An event about one channel: its fields, then `extra`.
    mutating func channelEvent(_ name: String, _ channel: SimulatedChannel, extra: String = "", privilege: String = "call,all") {
        emit(name, channel.fields() + extra, privilege: privilege, change: .set(channel))
    }

    mutating func varSet(_ channel: SimulatedChannel, _ variable: String, _ value: String) {
        channelEvent("VarSet", channel, extra: "Variable: \(variable)\r\nValue: \(value)\r\n", privilege: "dialplan,all")
    }

    mutating func newexten(_ channel: inout SimulatedChannel, application: String, data: String) {
        channel.application = application
        channel.applicationData = data
        channelEvent("Newexten", channel, extra: "Extension: \(channel.exten)\r\nApplication: \(application)\r\nAppData: \(data)\r\n",
                     privilege: "dialplan,all")
    }

    mutating func deviceState(_ device: String, _ state: String) {
        emit("DeviceStateChange", "Device: \(device)\r\nState: \(state)\r\n")
    }

    mutating func hangup(_ channel: inout SimulatedChannel, cause: Int, text: String) {
        emit("Hangup", channel.fields() + "Cause: \(cause)\r\nCause-txt: \(text)\r\n", change: .gone(uniqueid: channel.uniqueid))
    }

    mutating func enter(_ bridge: inout SimulatedBridge, _ channel: inout SimulatedChannel) {
        bridge.channels += 1
        channel.bridgeID = bridge.id
        emit("BridgeEnter", bridge.fields + channel.fields(), change: .set(channel))
    }

    mutating func leave(_ bridge: inout SimulatedBridge, _ channel: inout SimulatedChannel) {
        bridge.channels = max(0, bridge.channels - 1)
        channel.bridgeID = nil
        emit("BridgeLeave", bridge.fields + channel.fields(), change: .set(channel))
    }

    /// The `BRIDGEPEER`/`BRIDGEPVTCALLID` pairs Asterisk sets on both legs of a fresh bridge.
    mutating func bridgePeers(_ agent: SimulatedChannel, _ customer: SimulatedChannel) {
        varSet(agent, "BRIDGEPEER", customer.name)
        varSet(agent, "BRIDGEPVTCALLID", customer.uniqueid)
        varSet(customer, "BRIDGEPEER", agent.name)
        varSet(customer, "BRIDGEPVTCALLID", agent.uniqueid)
    }

    /// `ANSWEREDTIME`, `DIALEDTIME` (and their `_MS`) and `DIALSTATUS`, set when Dial returns.
    mutating func dialTimes(_ agent: SimulatedChannel, answeredAt: Double, dialedAt: Double) {
        let answered = max(0, time - answeredAt)
        let dialed = max(0, time - dialedAt)
        varSet(agent, "ANSWEREDTIME", String(Int(answered)))
        varSet(agent, "ANSWEREDTIME_MS", String(Int(answered * 1000)))
        varSet(agent, "DIALEDTIME", String(Int(dialed)))
        varSet(agent, "DIALEDTIME_MS", String(Int(dialed * 1000)))
        varSet(agent, "DIALSTATUS", "ANSWER")
    }

    static let rtpSummary = "ssrc=519910383;themssrc=0;lp=0;rxjitter=0.000000;rxcount=0;txjitter=0.000000;txcount=50;rlp=0;rtt=0.000000;rxmes=0.000000;txmes=0.000000"

    /// The RTP quality variables chan_sip sets as a leg ends (the bulk of a recorded call's bytes).
    mutating func rtpQuality(_ channel: SimulatedChannel, bridged: Bool) {
        let suffix = bridged ? "BRIDGED" : ""
        varSet(channel, "RTPAUDIOQOS" + suffix, Self.rtpSummary)
        varSet(channel, "RTPAUDIOQOSJITTER" + suffix,
               "minrxjitter=000.000000;maxrxjitter=000.000000;avgrxjitter=000.000000;stdevrxjitter=000.000000;mintxjitter=000.000000;maxtxjitter=000.000000;avgtxjitter=000.000000;stdevtxjitter=000.000000;")
        varSet(channel, "RTPAUDIOQOSLOSS" + suffix,
               "  minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;  stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;  avgtxlost=000.000000;  stdevtxlost=000.000000;")
        varSet(channel, "RTPAUDIOQOSRTT" + suffix, "     minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     stdevrtt=000.000000;")
        varSet(channel, "RTPAUDIOQOSMES" + suffix,
               "   minrxmes=000.000000;   maxrxmes=000.000000;   avgrxmes=000.000000;   stdevrxmes=000.000000;   mintxmes=000.000000;   maxtxmes=000.000000;   avgtxmes=000.000000;   stdevtxmes=000.000000;")
    }

    /// The Originate's outcome; a generated call's has no ActionID (ViciDial's own session sent it).
    mutating func originateResponse(_ call: SimulatedCall, success: Bool, reason: Int, channel: String, uniqueid: String?) {
        let id = call.originate?.actionID.map { "ActionID: \($0)\r\n" } ?? ""
        emit("OriginateResponse", id + "Response: \(success ? "Success" : "Failure")\r\nChannel: \(channel)\r\n"
            + "Context: \(call.originate?.context ?? "default")\r\nExten: \(call.originate?.exten ?? call.phoneNumber)\r\nReason: \(reason)\r\n"
            + "Uniqueid: \(uniqueid ?? "<unknown>")\r\nCallerIDNum: \(call.callerIDNumber)\r\nCallerIDName: \(call.callerIDName)\r\n")
    }

    /// The agent's phone never answered (busy, or ringing until the Originate's timeout): its
    /// channel goes, and the Originate fails with Asterisk's `Reason` (5 busy, 3 no answer).
    mutating func agentFailed(_ agent: inout SimulatedChannel, _ call: SimulatedCall, device: String, status: String, cause: Int, text: String, reason: Int) {
        emit("DialEnd", agent.fields(prefix: "Dest") + "DialStatus: \(status)\r\n")
        hangup(&agent, cause: cause, text: text)
        originateResponse(call, success: false, reason: reason, channel: device, uniqueid: nil)
        deviceState(device, "NOT_INUSE")
    }

    /// The CDR record `cdr_manager` writes as the originating leg ends.
    mutating func cdr(_ call: SimulatedCall, agent: SimulatedChannel, customer: SimulatedChannel, answeredAt: Double?, disposition: String) {
        let billable = answeredAt.map { Int(time - $0) } ?? 0
        emit("Cdr", "AccountCode: \r\nSource: \(call.callerIDNumber)\r\nDestination: \(call.phoneNumber)\r\n"
            + "DestinationContext: \(agent.context)\r\nCallerID: \"\(call.callerIDName)\" <\(call.callerIDNumber)>\r\n"
            + "Channel: \(agent.name)\r\nDestinationChannel: \(customer.name)\r\nLastApplication: Dial\r\n"
            + "LastData: \(agent.applicationData)\r\nStartTime: \(Self.dateTime(call.startedAt))\r\n"
            + "AnswerTime: \(answeredAt.map(Self.dateTime) ?? "")\r\nEndTime: \(Self.dateTime(time))\r\n"
            + "Duration: \(Int(time - call.startedAt))\r\nBillableSeconds: \(billable)\r\nDisposition: \(disposition)\r\n"
            + "AMAFlags: DOCUMENTATION\r\nUniqueID: \(agent.uniqueid)\r\nUserField: \r\n", privilege: "cdr,all")
    }

    /// `2026-11-25 14:48:29` in UTC.
    static func dateTime(_ time: Double) -> String {
        var seconds = time_t(time)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}

extension ScriptWriter {
    /// `20261125-144829`: how ViciDial stamps recording file names (UTC here).
    static func compactDateTime(_ time: Double) -> String {
        dateTime(time).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "").replacingOccurrences(of: " ", with: "-")
    }
}
