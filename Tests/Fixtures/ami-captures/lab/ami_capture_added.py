"""Added to the shared lab's ami_capture.py (asterisk-lab/ami_capture.py): helpers at module level,
scenarios inside main() beside the others (they use its `scenario` decorator and `Session`)."""
import os, socket, sys, time  # as in ami_capture.py

# ---- helpers added for the amibridge captures (transfer-blind ... local-optimization)
import re


def events(s, since=0):
    """Complete messages seen so far (from buffer offset `since`), as ordered dicts of header -> first value."""
    out = []
    for m in s.buf[since:].split("\r\n\r\n")[:-1]:
        h = {}
        for line in m.split("\r\n"):
            if ": " in line:
                k, v = line.split(": ", 1)
                h.setdefault(k, v)
        out.append(h)
    return out


def wait_until(s, pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if s.pump(0.1) is False and s.lines and s.lines[-1]["dir"] == "close":
            return False
        if pred():
            return True
    return False


def channel_named(s, prefix, since=0):
    """Name of the first channel created (Newchannel) whose name starts with `prefix`."""
    for e in events(s, since):
        if e.get("Event") == "Newchannel" and e.get("Channel", "").startswith(prefix):
            return e["Channel"]
    return None


def event_seen(s, since=0, **want):
    return any(all(e.get(k) == v for k, v in want.items()) for e in events(s, since))


def live_channels(s):
    live = set()
    for e in events(s):
        if e.get("Event") == "Newchannel":
            live.add(e["Channel"])
        elif e.get("Event") == "Hangup":
            live.discard(e["Channel"])
    return live


def finish(s, timeout, aid="bye"):
    """Let every channel the session saw hang up, then log off."""
    wait_until(s, lambda: not live_channels(s), timeout)
    left = live_channels(s)
    if left:
        print("WARNING: still up at logoff:", left)
    s.pump(1.5)
    s.action("Logoff", ActionID=aid)
    s.pump(1.0)


# ---- inside main():
    # ---- scenarios added for amibridge (Tests/Fixtures/ami-captures/asterisk-20) ----
    @scenario("transfer-blind", "agent SIP/1001 is originated into [customers-xfer] and dials customer 18009991234 "
              "(Dial(Local/18009991234@pstn,15,Tt); the customer answers at once and would stay 30 s); 2 s into the "
              "talk the AMI action BlindTransfer(Channel: SIP/1001-..., Exten 1006, Context xfer-targets-sip) sends "
              "the customer's channel Local/18009991234@pstn-...;1 (the Dial callee, now running dialplan) to "
              "1006@xfer-targets-sip (BlindTransfer event, Result: Success): the bridge is destroyed and SIP/1001 is "
              "hung up at once (cause 16); the customer's ;1 does Dial(SIP/1002,20); SIP/1002 (a sipp phone) rings "
              "3 s, answers, talks 8 s with the customer in a new bridge and sends BYE; then the customer's Local "
              "pair hangs up. No Linkedid changes: every channel, including the new SIP/1002 dialed by the "
              "customer's ;1, carries the Linkedid of SIP/1001")
    def _(s):
        s.login()
        s.action("Originate", Channel="SIP/1001", Context="customers-xfer", Exten="18009991234", Priority="1",
                 Async="true", Timeout="20000", CallerID='"Blind" <18009991234>', ActionID="bt-1")
        wait_until(s, lambda: event_seen(s, Event="DialEnd", DialStatus="ANSWER", Channel=channel_named(s, "SIP/1001-") or "-"), 10)
        s.pump(2)
        agent = channel_named(s, "SIP/1001-")
        s.action("BlindTransfer", Channel=agent, Exten="1006", Context="xfer-targets-sip", ActionID="bt-xfer")
        finish(s, 30)

    @scenario("transfer-attended", "agent SIP/1001 is originated into [customers-xfer] and dials customer 18009991234 "
              "(Dial(Local/18009991234@pstn,15,Tt); the customer answers and would stay 30 s); 2 s into the talk "
              "the AMI action Atxfer(Channel: SIP/1001-..., Exten 1006, Context xfer-targets-sip) runs the atxfer "
              "feature (DTMFEnd events on SIP/1001, customer on Hold): SIP/1001 leaves the customer's bridge for a "
              "consultation bridge with a new Local/1006@xfer-targets-sip-...;1 (Local without /n), whose ;2 does "
              "Dial(SIP/1002,20); SIP/1002 rings 3 s and ANSWERS; 1.5 s after that answer the agent's SIP/1001 is "
              "hung up (AMI Hangup), which completes the transfer: BridgeMerge of the consultation bridge into the "
              "customer's, Local/1006...;1 moves into the customer's bridge, AttendedTransfer (Result: Success, "
              "DestType: Bridge), SIP/1001 hangs up (cause 16); the customer and SIP/1002 talk until SIP/1002 sends "
              "BYE 8 s after answering, then every leg hangs up. The Local/1006 pair is NOT optimized away (the lab's "
              "sipp phones send no RTP, and Asterisk only optimizes a Local pair when a voice frame crosses it). "
              "One Linkedid (SIP/1001's) on every channel throughout")
    def _(s):
        s.login()
        s.action("Originate", Channel="SIP/1001", Context="customers-xfer", Exten="18009991234", Priority="1",
                 Async="true", Timeout="20000", CallerID='"Attended" <18009991234>', ActionID="at-1")
        wait_until(s, lambda: event_seen(s, Event="DialEnd", DialStatus="ANSWER", Channel=channel_named(s, "SIP/1001-") or "-"), 10)
        s.pump(2)
        agent = channel_named(s, "SIP/1001-")
        mark = len(s.buf)
        s.action("Atxfer", Channel=agent, Exten="1006", Context="xfer-targets-sip", ActionID="at-xfer")
        ok = wait_until(s, lambda: any(e.get("Event") == "Newstate" and e.get("Channel", "").startswith("SIP/1002-")
                                       and e.get("ChannelStateDesc") == "Up" for e in events(s, mark)), 15)
        print("target answered:", ok)
        s.pump(1.5)
        s.action("Hangup", Channel=agent, ActionID="at-hup-transferer")
        finish(s, 30)

    @scenario("pickup-group", "call A: Originate Local/1001@agents (its ;2 answers after 0.5 s and stays 20 s) into "
              "[ring-sip-group] 18007770003, whose ;1 does Dial(SIP/1003/18007770003,25); SIP/1003 (sip.conf "
              "callgroup=1) rings and never answers. Call B, 1.5 s later: Originate SIP/1001 (sip.conf "
              "pickupgroup=1; the sipp phone answers after 0.5 s) into [phone-features] *8, which runs Pickup() "
              "with no argument (group pickup, like a phone dialing *8). Pickup event: Channel SIP/1001 (B's "
              "Linkedid), TargetChannel SIP/1003 (A's Linkedid). SIP/1003 hangs up with cause 26 (its Hangup shows "
              "Context phone-features, Exten *8); A's Local ;1 gets a DialEnd ANSWER whose DestChannel is the "
              "picker SIP/1001 (still B's Linkedid), both enter a new bridge, and from the next event on (a VarSet) "
              "SIP/1001 carries A's Linkedid: call B has no channel of its own left. 6 s later SIP/1001 is hung up "
              "(AMI Hangup, the phone hangs up) in A's Linkedid; A's Dial returns and its Local pair hangs up")
    def _(s):
        s.login()
        s.action("Originate", Channel="Local/1001@agents", Context="ring-sip-group", Exten="18007770003", Priority="1",
                 Async="true", Timeout="20000", CallerID='"Ringing" <3125550002>', ActionID="pg-1")
        wait_until(s, lambda: any(e.get("Event") == "Newstate" and e.get("Channel", "").startswith("SIP/1003-")
                                  and e.get("ChannelStateDesc") == "Ringing" for e in events(s)), 8)
        s.pump(1)
        mark = len(s.buf)
        s.action("Originate", Channel="SIP/1001", Context="phone-features", Exten="*8", Priority="1",
                 Async="true", Timeout="10000", CallerID='"Picker" <1001>', ActionID="pg-2")
        wait_until(s, lambda: event_seen(s, mark, Event="Pickup"), 8)
        s.pump(6)
        picker = channel_named(s, "SIP/1001-", mark)
        s.action("Hangup", Channel=picker, ActionID="pg-hup")
        finish(s, 30)

    @scenario("call-forward", "agent SIP/1001 is originated into [customers-fwd] 18004441234, which does Set(_FORWARD_CONTEXT=pstn) "
              "and Dial(SIP/carrier-forward/18004441234,15); the far end (sipp) answers the INVITE with 302 Moved "
              "Temporarily, Contact <sip:18005550199@127.0.0.1>; chan_sip (promiscredir off) hands Dial the number "
              "18005550199 and Dial follows the forward: a new Local/18005550199@pstn pair is created (Newchannel, "
              "LocalBridge), then DialEnd of SIP/carrier-forward with DialStatus CANCEL and Forward: 18005550199, "
              "then DialBegin of SIP/1001 to Local/18005550199@pstn-...;1, and SIP/carrier-forward hangs up (cause "
              "16, state Down). The forwarded-to side rings 1 s, answers (DialEnd ANSWER), talks 3 s and hangs up "
              "(cause 16); SIP/1001 then hangs up. One Linkedid (SIP/1001's) on every channel")
    def _(s):
        s.login()
        s.action("Originate", Channel="SIP/1001", Context="customers-fwd", Exten="18004441234", Priority="1",
                 Async="true", Timeout="20000", CallerID='"Forward" <18004441234>', ActionID="fw-1")
        s.pump(2)
        finish(s, 25)

    @scenario("queue-member-answers", "the customer: Originate Local/18009991234@pstn (its ;2 answers and would stay 30 s) into [queue-in] "
              "support, where ;1 does Answer() and Queue(support,r,,,30); queues.conf queue support: strategy "
              "linear, timeout 3, retry 1, members Local/2003@queue-agents (NeverAnswers: rings, never answers) "
              "then Local/2001@queue-agents (Answers: rings 1 s, answers, talks 8 s, hangs up). QueueCallerJoin; "
              "AgentCalled for 2003, after 3 s AgentRingNoAnswer and its Local pair hangs up; 1 s later AgentCalled "
              "for 2001, which answers: DialEnd ANSWER, QueueCallerLeave, AgentConnect, both enter a bridge; the "
              "member hangs up after 8 s: AgentComplete (Reason: agent), then the customer's Queue() returns and "
              "its Local pair hangs up. No Linkedid changes: Queue creates the member channels with the caller as "
              "requestor, so they carry the caller's Linkedid from their Newchannel on")
    def _(s):
        s.login()
        s.action("Originate", Channel="Local/18009991234@pstn", Context="queue-in", Exten="support", Priority="1",
                 Async="true", Timeout="20000", CallerID='"Customer" <18009991234>', ActionID="q-1")
        s.pump(3)
        finish(s, 40)

    @scenario("local-optimization", "agent SIP/1001 is originated into [local-opt] 18005551234, which does "
              "Dial(Local/18005551234@local-opt-out,15) (no /n); the Local ;2 does "
              "Dial(SIP/carrier-media/18005551234,15), a sipp trunk that rings 1 s, answers with PCMA and sends "
              "audio (RTP), then BYE after 4 s. Both halves get bridged (;2 with SIP/carrier-media, ;1 with "
              "SIP/1001), and with the first voice frame Asterisk optimizes the pair away: LocalOptimizationBegin "
              "(SourceChannel SIP/carrier-media), BridgeLeave of SIP/carrier-media from ;2's bridge and of ;1 from "
              "SIP/1001's bridge, BridgeEnter of SIP/carrier-media into SIP/1001's bridge, LocalOptimizationEnd "
              "(note: it says Success: No although the swap happened; Asterisk 20's bridge.c reports res == 1 while "
              "a completed move-swap sets res = -1), then both Local channels hang up (cause 16). SIP/carrier-media "
              "and SIP/1001 talk until the BYE; both hang up. One Linkedid (SIP/1001's) on every channel")
    def _(s):
        s.login()
        s.action("Originate", Channel="SIP/1001", Context="local-opt", Exten="18005551234", Priority="1",
                 Async="true", Timeout="20000", CallerID='"LocalOpt" <18005551234>', ActionID="lo-1")
        s.pump(2)
        finish(s, 25)

    @scenario("pickup-group-picker-older", "like pickup-group, but the picker's call is the OLDER one. Call B first: Originate SIP/1001 "
              "(sip.conf pickupgroup=1, answers after 0.5 s) into [phone-features] idle (Answer, Wait(30)): "
              "Linkedid B. 1.5 s later call A: Originate Local/1001@agents into [ring-sip-group] 18007770004, whose "
              ";1 does Dial(SIP/1003/18007770004,25); SIP/1003 (callgroup=1) rings: Linkedid A, newer than B. 1 s "
              "later AMI Redirect sends SIP/1001 to [phone-features] *8 = Pickup() (group pickup). Pickup event "
              "(Channel SIP/1001 in B, TargetChannel SIP/1003 in A); SIP/1003 hangs up (cause 26); A's ;1 gets "
              "DialEnd ANSWER with DestChannel SIP/1001 (DestLinkedid B); SIP/1001 and A's ;1 enter a new bridge, "
              "and A's ;1 takes B's Linkedid (already on its own BridgeEnter), because the oldest Linkedid in a "
              "bridge wins. A's ;2 is not in that bridge and keeps A's Linkedid: call A is now split over two "
              "Linkedids. 5 s later SIP/1001 is hung up (AMI Hangup); A's ;1 hangs up in B's Linkedid, A's ;2 in "
              "A's")
    def _(s):
        s.login()
        s.action("Originate", Channel="SIP/1001", Context="phone-features", Exten="idle", Priority="1",
                 Async="true", Timeout="10000", CallerID='"Busy phone" <1001>', ActionID="po-b")
        wait_until(s, lambda: event_seen(s, Event="OriginateResponse", ActionID="po-b"), 5)
        s.pump(1.5)
        picker = channel_named(s, "SIP/1001-")
        s.action("Originate", Channel="Local/1001@agents", Context="ring-sip-group", Exten="18007770004", Priority="1",
                 Async="true", Timeout="20000", CallerID='"Ringing" <3125550003>', ActionID="po-a")
        wait_until(s, lambda: any(e.get("Event") == "Newstate" and e.get("Channel", "").startswith("SIP/1003-")
                                  and e.get("ChannelStateDesc") == "Ringing" for e in events(s)), 8)
        s.pump(1)
        mark = len(s.buf)
        s.action("Redirect", Channel=picker, Context="phone-features", Exten="*8", Priority="1", ActionID="po-redirect")
        wait_until(s, lambda: event_seen(s, mark, Event="Pickup"), 5)
        s.pump(5)
        s.action("Hangup", Channel=picker, ActionID="po-hup")
        finish(s, 30)

    @scenario("queue-agent-older-linkedid", "a queue whose member is an app_agent_pool agent logged in BEFORE the call, so the member side has "
              "the older Linkedid. First the agent: Originate SIP/1001 into [agent-login] 1001 = Answer(), "
              "AgentLogin(1001,s) (agents.conf 1001, ackcall=no): AgentLogin event, SIP/1001 waits in the agent "
              "holding bridge, Linkedid G. 2 s later the customer: Originate Local/18009991234@pstn (its ;2 answers "
              "and would stay 30 s) into [queue-in] sales = Answer(), Queue(sales,r,,,30): Linkedid C. queues.conf "
              "sales: ringall, one member Local/1001@agent-request (state_interface Agent:1001), whose ;2 runs "
              "AgentRequest(1001). QueueCallerJoin; AgentCalled (DestChannel Local/1001@agent-request-...;1); the "
              "member's ;2 enters a new bridge, SIP/1001 leaves the holding bridge and joins it, and the member's "
              ";2 takes the agent's older Linkedid G (first seen on its VarSet/Newstate right after SIP/1001's "
              "BridgeEnter); DialEnd ANSWER, QueueCallerLeave, AgentConnect, the member's ;1 and the customer's ;1 "
              "enter a bridge, both keep C. 6 s later the customer hangs up (AMI Hangup of "
              "Local/18009991234@pstn-...;2): AgentComplete (Reason: caller), the customer's pair and the member's "
              ";1 hang up in C, the member's ;2 hangs up in G, SIP/1001 goes back to the holding bridge. 3 s later "
              "SIP/1001 is hung up (AMI Hangup): AgentLogoff, Hangup in G. The queue call is split over two "
              "Linkedids: caller side C, agent side G")
    def _(s):
        s.login()
        s.action("Originate", Channel="SIP/1001", Context="agent-login", Exten="1001", Priority="1",
                 Async="true", Timeout="10000", CallerID='"Agent 1001" <1001>', ActionID="qa-login")
        wait_until(s, lambda: event_seen(s, Event="AgentLogin"), 5)
        s.pump(2)
        agent = channel_named(s, "SIP/1001-")
        s.action("Originate", Channel="Local/18009991234@pstn", Context="queue-in", Exten="sales", Priority="1",
                 Async="true", Timeout="20000", CallerID='"Customer" <18009991234>', ActionID="qa-caller")
        wait_until(s, lambda: event_seen(s, Event="AgentConnect"), 10)
        s.pump(6)
        customer = channel_named(s, "Local/18009991234@pstn-")
        s.action("Hangup", Channel=customer.replace(";1", ";2"), ActionID="qa-customer-hangs-up")
        wait_until(s, lambda: event_seen(s, Event="AgentComplete"), 5)
        s.pump(3)
        s.action("Hangup", Channel=agent, ActionID="qa-agent-logs-off")
        finish(s, 20)

    @scenario("transfer-attended-media", "as transfer-attended, but the target phone sends audio, as real phones do. Agent SIP/1001 is "
              "originated into [customers-xfer] and dials customer 18009991234 "
              "(Dial(Local/18009991234@pstn,15,Tt)); 2 s into the talk AMI Atxfer(Channel: SIP/1001-..., Exten "
              "1007, Context xfer-targets-sip): SIP/1001 moves to a consultation bridge with a new "
              "Local/1007@xfer-targets-sip-...;1 (no /n), whose ;2 does Dial(SIP/1007,20); SIP/1007 (sipp) rings 3 "
              "s, answers with PCMA and plays RTP (sipp's g711a.pcap). During the consultation no optimization "
              "happens although audio flows. 1.5 s after the answer SIP/1001 is hung up (AMI Hangup): BridgeMerge, "
              "Local/1007...;1 moves into the customer's bridge, AttendedTransfer (Result: Success, DestType: "
              "Bridge, TransferTargetChannel Local/1007...;1), SIP/1001 hangs up. A moment later (0.1 to 0.3 s) the "
              "Local pair is optimized away: LocalOptimizationBegin (SourceChannel SIP/1007), SIP/1007 leaves the "
              ";2 bridge and enters the customer's bridge in place of ;1, LocalOptimizationEnd (Success: No, see "
              "local-optimization), both Local/1007 halves hang up. The customer and SIP/1007 talk until SIP/1007 "
              "sends BYE 8 s after answering; then the customer's pair hangs up. One Linkedid (SIP/1001's) "
              "throughout")
    def _(s):
        s.login()
        s.action("Originate", Channel="SIP/1001", Context="customers-xfer", Exten="18009991234", Priority="1",
                 Async="true", Timeout="20000", CallerID='"Attended" <18009991234>', ActionID="am-1")
        wait_until(s, lambda: event_seen(s, Event="DialEnd", DialStatus="ANSWER", Channel=channel_named(s, "SIP/1001-") or "-"), 10)
        s.pump(2)
        agent = channel_named(s, "SIP/1001-")
        mark = len(s.buf)
        s.action("Atxfer", Channel=agent, Exten="1007", Context="xfer-targets-sip", ActionID="am-xfer")
        ok = wait_until(s, lambda: any(e.get("Event") == "Newstate" and e.get("Channel", "").startswith("SIP/1007-")
                                       and e.get("ChannelStateDesc") == "Up" for e in events(s, mark)), 15)
        print("target answered:", ok)
        s.pump(1.5)
        s.action("Hangup", Channel=agent, ActionID="am-hup-transferer")
        finish(s, 30)

