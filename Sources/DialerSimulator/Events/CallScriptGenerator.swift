import Foundation

/// Turns a planned call into the AMI events Asterisk 20 sends for it, field for field as in the
/// recorded `sip-*` captures (an agent SIP phone originated first, then `Dial` of a SIP trunk):
/// the channel events, and their noise (`VarSet`, `Newexten`, `DeviceStateChange`, `Cdr`, ...).
/// Pure: fresh uniqueids come from its own counters, so a seeded plan gives the same text.
public struct CallScriptGenerator: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// The dialplan context of the agent leg's `Newchannel`.
        public var agentContext = "default"
        /// Where a generated call dials the customer (an Originate names its own).
        public var dialContext = "default"
        /// The SIP trunk peer customer legs leave on.
        public var trunk = "carrier"
        public var trunkContext = "from-carrier"
        public var transferContext = "xfer-targets"
        /// Dial's timeout in seconds (the `AppData` of `Dial`).
        public var dialTimeout = 15

        public init() {}
    }

    public let configuration: Configuration
    private var uniqueSequence: Int
    private var channelSequence = 0
    private var bridgeSequence = 0

    /// `firstUniqueSequence`: the number after the dot of the first uniqueid (Asterisk counts from
    /// its start; a simulator started twice in one second should not repeat uniqueids).
    public init(configuration: Configuration = Configuration(), firstUniqueSequence: Int = 1) {
        self.configuration = configuration
        uniqueSequence = firstUniqueSequence
    }

    public mutating func script(for call: SimulatedCall) -> CallScript {
        var w = ScriptWriter(time: call.startedAt)
        let device = call.originate?.channel ?? call.agent.device
        let number = call.phoneNumber
        let agentID = newUniqueid(at: w.time)
        var agent = SimulatedChannel(name: channelName(on: device), context: configuration.agentContext, exten: "s",
                                     uniqueid: agentID, linkedid: agentID, createdAt: w.time)
        var script = CallScript(call: call, events: [], linkedid: agentID, agentChannel: agent.name, endedAt: call.startedAt)
        w.channelEvent("Newchannel", agent)
        w.varSet(agent, "SIPCALLID", sipCallID(agentID))
        agent.exten = ""
        w.newexten(&agent, application: "AppDial2", data: "(Outgoing Line)")
        for variable in call.originate?.variables ?? [] { w.varSet(agent, variable.name, variable.value) }
        agent.callerIDNum = call.callerIDNumber
        agent.callerIDName = call.callerIDName
        w.channelEvent("NewCallerid", agent, extra: "CID-CallingPres: 0 (Presentation Allowed, Not Screened)\r\n")
        agent.connectedLineNum = call.callerIDNumber
        agent.connectedLineName = call.callerIDName
        w.channelEvent("NewConnectedLine", agent)
        let dialString = device.split(separator: "/", maxSplits: 1).last.map(String.init) ?? device
        w.emit("DialBegin", agent.fields(prefix: "Dest") + "DialString: \(dialString)\r\n", change: .set(agent))

        if call.outcome == .agentBusy {
            w.agentFailed(&agent, call, device: device, status: "BUSY", cause: 17, text: "User busy", reason: 5)
            return finish(&script, w)
        }
        agent.state = .ringing
        w.channelEvent("Newstate", agent)
        w.emit("DialState", agent.fields(prefix: "Dest") + "DialStatus: RINGING\r\n")
        w.deviceState(device, "NOT_INUSE")
        w.advance(to: call.startedAt + call.agentRingSeconds)
        if call.outcome == .agentNoAnswer {
            w.agentFailed(&agent, call, device: device, status: "NOANSWER", cause: 19, text: "User alerting, no answer", reason: 3)
            return finish(&script, w)
        }

        // The agent answers; the Originate's dialplan dials the customer over the trunk.
        agent.state = .up
        w.channelEvent("Newstate", agent)
        w.emit("DialEnd", agent.fields(prefix: "Dest") + "DialStatus: ANSWER\r\n")
        agent.context = call.originate?.context ?? configuration.dialContext
        agent.exten = call.originate?.exten ?? number
        let trunkDial = "\(configuration.trunk)/\(number)"
        w.newexten(&agent, application: "Dial", data: "SIP/\(trunkDial),\(configuration.dialTimeout)")
        for variable in ["DIALSTATUS", "DIALEDPEERNUMBER", "DIALEDPEERNAME", "ANSWEREDTIME", "ANSWEREDTIME_MS", "DIALEDTIME",
                         "DIALEDTIME_MS", "RINGTIME", "RINGTIME_MS", "PROGRESSTIME", "PROGRESSTIME_MS"] {
            w.varSet(agent, variable, "")
        }
        let customerID = newUniqueid(at: w.time)
        var customer = SimulatedChannel(name: channelName(on: "SIP/\(configuration.trunk)"), context: configuration.trunkContext, exten: "s",
                                        uniqueid: customerID, linkedid: agentID, createdAt: w.time)
        script.customerUniqueid = customerID
        w.channelEvent("Newchannel", customer)
        w.varSet(customer, "SIPCALLID", sipCallID(customerID))
        customer.exten = ""
        w.varSet(customer, "DIALEDPEERNUMBER", trunkDial)
        customer.callerIDNum = number
        customer.callerIDName = call.callerIDName
        customer.connectedLineNum = call.callerIDNumber
        customer.connectedLineName = call.callerIDName
        customer.exten = number
        w.newexten(&customer, application: "AppDial", data: "(Outgoing Line)")
        w.channelEvent("NewCallerid", customer, extra: "CID-CallingPres: 0 (Presentation Allowed, Not Screened)\r\n")
        w.channelEvent("NewConnectedLine", customer)
        w.emit("DialBegin", agent.fields() + customer.fields(prefix: "Dest") + "DialString: \(trunkDial)\r\n", change: .set(customer))
        w.originateResponse(call, success: true, reason: 4, channel: agent.name, uniqueid: agentID)
        let dialedAt = w.time

        switch call.outcome {
        case .customerBusy, .congestion:
            let busy = call.outcome == .customerBusy
            w.advance(to: dialedAt + 0.05)
            w.emit("DialEnd", agent.fields() + customer.fields(prefix: "Dest") + "DialStatus: \(busy ? "BUSY" : "CONGESTION")\r\n")
            w.hangup(&customer, cause: busy ? 17 : 34, text: busy ? "User busy" : "Circuit/channel congestion")
            endDial(&w, &agent, status: busy ? "BUSY" : "CONGESTION", cause: busy ? 17 : 16, call: call, customer: customer, answeredAt: nil)
            return finish(&script, w)
        case .customerNoAnswer, .answered, .agentHangsUpFirst, .transfer, .agentBusy, .agentNoAnswer:
            break
        }
        customer.state = .ringing
        w.channelEvent("Newstate", customer)
        script.customerRingingAt = w.time
        w.varSet(agent, "RINGTIME", "0")
        w.varSet(agent, "RINGTIME_MS", "1")
        w.deviceState("SIP/\(configuration.trunk)", "NOT_INUSE")
        w.emit("DialState", agent.fields() + customer.fields(prefix: "Dest") + "DialStatus: RINGING\r\n")
        w.advance(to: dialedAt + call.customerRingSeconds)
        guard call.outcome.customerAnswers else {
            w.emit("DialEnd", agent.fields() + customer.fields(prefix: "Dest") + "DialStatus: NOANSWER\r\n")
            w.hangup(&customer, cause: 16, text: "Normal Clearing")
            endDial(&w, &agent, status: "NOANSWER", cause: 16, call: call, customer: customer, answeredAt: nil)
            return finish(&script, w)
        }

        // The customer answers: both legs enter one bridge.
        customer.state = .up
        w.channelEvent("Newstate", customer)
        let answeredAt = w.time
        script.customerAnsweredAt = answeredAt
        w.varSet(agent, "DIALSTATUS", "ANSWER")
        w.varSet(agent, "DIALEDPEERNAME", customer.name)
        w.varSet(agent, "DIALEDPEERNUMBER", trunkDial)
        w.emit("DialEnd", agent.fields() + customer.fields(prefix: "Dest") + "DialStatus: ANSWER\r\n")
        var bridge = SimulatedBridge(id: bridgeID())
        w.emit("BridgeCreate", bridge.fields)
        customer.exten = ""
        w.newexten(&customer, application: "AppDial", data: "(Outgoing Line)")
        w.enter(&bridge, &customer)
        w.enter(&bridge, &agent)
        w.bridgePeers(agent, customer)
        w.bridgePeers(agent, customer)

        switch call.outcome {
        case .transfer:
            let target = call.transferTarget ?? call.agent
            w.advance(to: answeredAt + call.transferAfterSeconds)
            var other = transfer(&w, agent: &agent, customer: &customer, bridge: &bridge, to: target, call: call)
            w.advance(to: answeredAt + call.talkSeconds)
            w.rtpQuality(customer, bridged: false)
            w.channelEvent("HangupRequest", customer, extra: "Cause: 16\r\n")
            w.leave(&bridge, &customer)
            w.hangup(&customer, cause: 16, text: "Normal Clearing")
            // The target was left alone in the bridge: Asterisk hangs it up.
            w.leave(&bridge, &other)
            w.channelEvent("SoftHangupRequest", other, extra: "Cause: 16\r\n")
            w.hangup(&other, cause: 16, text: "Normal Clearing")
            script.hungUpFirst = .agent
        case .agentHangsUpFirst:
            w.advance(to: answeredAt + call.talkSeconds)
            w.rtpQuality(agent, bridged: false)
            w.channelEvent("HangupRequest", agent, extra: "Cause: 16\r\n")
            w.varSet(agent, "BRIDGEPEER", "")
            w.leave(&bridge, &agent)
            w.dialTimes(agent, answeredAt: answeredAt, dialedAt: dialedAt)
            w.hangup(&agent, cause: 16, text: "Normal Clearing")
            w.leave(&bridge, &customer)
            w.channelEvent("SoftHangupRequest", customer, extra: "Cause: 16\r\n")
            w.hangup(&customer, cause: 16, text: "Normal Clearing")
            script.hungUpFirst = .agent
        default:
            w.advance(to: answeredAt + call.talkSeconds)
            w.rtpQuality(customer, bridged: false)
            w.rtpQuality(agent, bridged: true)
            w.channelEvent("HangupRequest", customer, extra: "Cause: 16\r\n")
            w.varSet(customer, "BRIDGEPEER", "")
            w.varSet(customer, "BRIDGEPVTCALLID", "")
            w.varSet(agent, "BRIDGEPEER", "")
            w.varSet(agent, "BRIDGEPVTCALLID", "")
            w.leave(&bridge, &customer)
            w.hangup(&customer, cause: 16, text: "Normal Clearing")
            w.leave(&bridge, &agent)
            w.dialTimes(agent, answeredAt: answeredAt, dialedAt: dialedAt)
            w.channelEvent("SoftHangupRequest", agent, extra: "Cause: 16\r\n")
            w.varSet(agent, "RTPAUDIOQOS", ScriptWriter.rtpSummary)
            w.hangup(&agent, cause: 16, text: "Normal Clearing")
            script.hungUpFirst = .customer
        }
        w.emit("BridgeDestroy", bridge.fields)
        w.cdr(call, agent: agent, customer: customer, answeredAt: answeredAt, disposition: "ANSWERED")
        return finish(&script, w)
    }

    /// An attended transfer to another agent's phone: it rings, answers, takes the agent's place
    /// in the bridge, and the agent's channel hangs up (shaped on `transfer-attended-blonde`).
    private mutating func transfer(_ w: inout ScriptWriter, agent: inout SimulatedChannel, customer: inout SimulatedChannel,
                                   bridge: inout SimulatedBridge, to target: SimulatedAgent, call: SimulatedCall) -> SimulatedChannel {
        w.channelEvent("Hold", agent, extra: "MusicClass: default\r\n")
        let targetID = newUniqueid(at: w.time)
        var other = SimulatedChannel(name: channelName(on: target.device), context: configuration.transferContext, exten: "s",
                                     uniqueid: targetID, linkedid: agent.linkedid, createdAt: w.time)
        w.channelEvent("Newchannel", other)
        other.callerIDNum = call.callerIDNumber
        other.callerIDName = call.callerIDName
        other.connectedLineNum = call.callerIDNumber
        other.connectedLineName = call.callerIDName
        other.exten = ""
        w.newexten(&other, application: "AppDial", data: "(Outgoing Line)")
        w.emit("DialBegin", agent.fields() + other.fields(prefix: "Dest") + "DialString: \(target.phoneExtension)\r\n", change: .set(other))
        other.state = .ringing
        w.channelEvent("Newstate", other)
        w.emit("DialState", agent.fields() + other.fields(prefix: "Dest") + "DialStatus: RINGING\r\n")
        w.advance(to: w.time + 1)
        other.state = .up
        w.channelEvent("Newstate", other)
        w.emit("DialEnd", agent.fields() + other.fields(prefix: "Dest") + "DialStatus: ANSWER\r\n")
        w.leave(&bridge, &agent)
        w.enter(&bridge, &other)
        w.emit("AttendedTransfer", "Result: Success\r\n" + agent.fields(prefix: "OrigTransferer") + bridge.fields(prefix: "OrigBridge")
            + other.fields(prefix: "SecondTransferer") + customer.fields(prefix: "Transferee") + "IsExternal: No\r\nDestType: Bridge\r\n"
            + "DestBridgeUniqueid: \(bridge.id)\r\n")
        w.channelEvent("SoftHangupRequest", agent, extra: "Cause: 16\r\n")
        w.hangup(&agent, cause: 16, text: "Normal Clearing")
        w.deviceState(call.agent.device, "NOT_INUSE")
        return other
    }

    /// After a customer leg that never answered: Dial returns, the dialplan hangs the agent up.
    private func endDial(_ w: inout ScriptWriter, _ agent: inout SimulatedChannel, status: String, cause: Int, call: SimulatedCall,
                         customer: SimulatedChannel, answeredAt: Double?) {
        w.varSet(agent, "DIALSTATUS", status)
        w.newexten(&agent, application: "Hangup", data: "")
        w.channelEvent("SoftHangupRequest", agent, extra: "Cause: 16\r\n")
        w.rtpQuality(agent, bridged: false)
        w.cdr(call, agent: agent, customer: customer, answeredAt: nil, disposition: status == "BUSY" ? "BUSY" : status == "NOANSWER" ? "NO ANSWER" : "FAILED")
        w.hangup(&agent, cause: cause, text: cause == 17 ? "User busy" : "Normal Clearing")
    }

    private func finish(_ script: inout CallScript, _ w: ScriptWriter) -> CallScript {
        script.events = w.events
        script.endedAt = w.events.last?.at ?? script.call.startedAt
        return script
    }

    // MARK: - Fresh identifiers

    private mutating func newUniqueid(at time: Double) -> String {
        defer { uniqueSequence += 1 }
        return "\(Int(time)).\(uniqueSequence)"
    }

    /// `SIP/1001-0000000a`; a Local channel's originated half is `Local/1001@agents-0000000a;1`.
    private mutating func channelName(on device: String) -> String {
        defer { channelSequence += 1 }
        let hex = String(channelSequence & 0xFFFF_FFFF, radix: 16)
        let name = "\(device)-" + String(repeating: "0", count: 8 - hex.count) + hex
        return device.hasPrefix("Local/") ? name + ";1" : name
    }

    private mutating func bridgeID() -> String {
        defer { bridgeSequence += 1 }
        let hex = String(bridgeSequence, radix: 16)
        return "5e1a7000-0000-4000-8000-" + String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    }

    private func sipCallID(_ uniqueid: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in uniqueid.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex + String(repeating: "0", count: 16 - hex.count) + hex + "@127.0.0.1:5060"
    }
}

/// A bridge of a simulated call, as the Bridge* events describe it.
struct SimulatedBridge {
    var id: String
    var channels = 0

    var fields: String { fields(prefix: "Bridge") }

    /// `BridgeUniqueid: ...` and its siblings; `prefix` `OrigBridge` for a transfer's.
    func fields(prefix: String) -> String {
        "\(prefix)Uniqueid: \(id)\r\n\(prefix)Type: basic\r\n\(prefix)Technology: native_rtp\r\n\(prefix)Creator: <unknown>\r\n"
            + "\(prefix)Name: <unknown>\r\n\(prefix)NumChannels: \(channels)\r\n\(prefix)VideoSourceMode: none\r\n"
    }
}
