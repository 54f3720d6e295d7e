import DialerSimulator
import Testing

/// When ViciDial writes which row, from a call's plan and its events' times (no database).
@Suite struct ViciDialRowPlanTests {
    static func script(_ outcome: SimulatedOutcome, neverDisposed: Bool = false, originate: OriginateRequest? = nil) -> CallScript {
        var traffic = TrafficPlanner.Configuration()
        traffic.neverDisposedPercent = neverDisposed ? 100 : 0
        var planner = TrafficPlanner(configuration: traffic)
        let agents = traffic.agentList
        let call: SimulatedCall
        if let originate {
            call = planner.call(for: originate, agent: agents[0], callerID: ("M5251411420000004242", "3125551212"), at: 1_795_000_000, outcome: outcome)
        } else {
            call = planner.call(agent: agents[0], transferTarget: agents[1], at: 1_795_000_000, outcome: outcome)
        }
        var generator = CallScriptGenerator()
        return generator.script(for: call)
    }

    static func writes(_ script: CallScript) -> [(at: Double, write: ViciDialRowWrite)] {
        ViciDialRowPlan.writes(for: script, serverIP: "10.0.0.9")
    }

    @Test("auto-dial answered: lead first, vicidial_log at the answer (QUEUE/VDAD, then INCALL), hangup update at the end (CALLER), dispo later")
    func answered() throws {
        let script = Self.script(.answered)
        let writes = Self.writes(script)
        let answeredAt = try #require(script.customerAnsweredAt)
        let uniqueid = try #require(script.customerUniqueid)
        let lead = try #require(writes.first)
        guard case .insertLead(let leadID, _, _, _, _, _) = lead.write else { Issue.record("first write: \(lead.write)"); return }
        #expect(leadID == script.call.leadID)
        #expect(lead.at < script.call.startedAt)
        let insert = try #require(writes.first { if case .insertCallLog = $0.write { true } else { false } })
        #expect(insert.at == answeredAt)
        #expect(insert.write == .insertCallLog(CallLogRow(
            uniqueid: uniqueid, leadID: leadID, listID: script.call.listID, campaignID: script.call.campaignID, phoneNumber: script.call.phoneNumber,
            callerCode: script.call.callerIDName, user: "VDAD", status: "QUEUE", startEpoch: answeredAt, endEpoch: nil)))
        #expect(writes.contains { $0.write == .agentTakesCall(uniqueid: uniqueid, user: script.call.agent.user) && $0.at < script.endedAt })
        #expect(writes.contains { $0.write == .callEnded(uniqueid: uniqueid, endEpoch: script.endedAt, termReason: "CALLER") && $0.at == script.endedAt })
        let delay = try #require(script.call.dispositionDelaySeconds)
        let dispose = try #require(writes.first { if case .dispose = $0.write { true } else { false } })
        #expect(dispose.at == script.endedAt + delay)
        #expect(dispose.write == .dispose(leadID: leadID, user: script.call.agent.user, uniqueid: uniqueid, status: script.call.disposition,
                                          at: script.endedAt + delay))
        #expect(writes.contains { if case .recordingStarted(_, _, _, _, let id, _, let at) = $0.write { id == uniqueid && at == answeredAt } else { false } })
    }

    @Test("the agent hangs up first: term_reason AGENT; never disposed: no disposition at all")
    func agentFirstNeverDisposed() throws {
        let script = Self.script(.agentHangsUpFirst, neverDisposed: true)
        let writes = Self.writes(script)
        let uniqueid = try #require(script.customerUniqueid)
        #expect(writes.contains { $0.write == .callEnded(uniqueid: uniqueid, endEpoch: script.endedAt, termReason: "AGENT") })
        #expect(!writes.contains { if case .dispose = $0.write { true } else { false } })
    }

    @Test("unanswered: the sweep logs the attempt after it ended, with its final status and no talk")
    func unanswered() throws {
        for (outcome, status) in [(SimulatedOutcome.customerBusy, "B"), (.customerNoAnswer, "NA"), (.congestion, "DC")] {
            let script = Self.script(outcome)
            let writes = Self.writes(script)
            let insert = try #require(writes.first { if case .insertCallLog = $0.write { true } else { false } })
            #expect(insert.at > script.endedAt)
            guard case .insertCallLog(let row) = insert.write else { continue }
            #expect(row.uniqueid == script.customerUniqueid)
            #expect(row.status == status)
            #expect(row.startEpoch == script.call.startedAt)
            #expect(row.endEpoch == script.endedAt)
            #expect(!writes.contains { if case .callEnded = $0.write { true } else { false } })
        }
        #expect(Self.writes(Self.script(.agentBusy)).allSatisfy { if case .insertCallLog = $0.write { false } else { true } })
    }

    @Test("click-to-call with an M caller code: the row goes in INCALL with the agent once the customer rings; no lead of its own")
    func manualDial() throws {
        let request = OriginateRequest(actionID: "c2c-9", channel: "SIP/1001", context: "default", exten: "18005554242")
        let script = Self.script(.answered, originate: request)
        let writes = Self.writes(script)
        let ringing = try #require(script.customerRingingAt)
        let insert = try #require(writes.first { if case .insertCallLog = $0.write { true } else { false } })
        #expect(insert.at == ringing)
        guard case .insertCallLog(let row) = insert.write else { return }
        #expect(row.leadID == 4242)
        #expect(row.phoneNumber == "18005554242")
        #expect(row.user == script.call.agent.user)
        #expect(row.status == "INCALL")
        #expect(row.callerCode == "M5251411420000004242")
        #expect(!writes.contains { if case .insertLead = $0.write { true } else { false } })
    }
}
