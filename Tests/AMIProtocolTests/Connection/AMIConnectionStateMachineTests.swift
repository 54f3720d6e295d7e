@testable import AMIProtocol
import Testing

/// The connection state machine as input → action sequences: every input a method call, every
/// answer compared whole (with `.many` flattened), ActionIDs the machine chose read back from its
/// writes rather than guessed.
@Suite("AMI connection state machine")
struct AMIConnectionStateMachineTests {
    // MARK: - Connect and banner

    @Test("connected arms the login deadline; a second connected does nothing")
    func connectedArmsLoginTimer() {
        var machine = AMIConnectionStateMachine(configuration: plainConfiguration)
        #expect(machine.connected().flattened == [.armTimer(.login, .seconds(7))])
        #expect(machine.connected().flattened == [.none])
    }

    @Test("plain login: the banner is answered with Login carrying Username and Secret")
    func plainLoginWrite() throws {
        let (_, login) = try greeted(plainConfiguration)
        #expect(login.action.name == "Login")
        #expect(login.action.fields == [field("Username", "bridge"), field("Secret", "s3cret-AMI")])
        #expect(!login.actionID.isEmpty)
    }

    @Test("md5 login: Challenge first, then Login with Key = md5(challenge + secret)")
    func md5LoginWrites() throws {
        var (machine, challenge) = try greeted(md5Configuration)
        #expect(challenge.action.name == "Challenge")
        #expect(challenge.action.fields == [field("AuthType", "MD5")])

        // Captured from a real Asterisk: challenge 581367186 with secret "s3cret-AMI".
        let login = try soleWrite(machine.frameReceived(response("Success", challenge.actionID, [("Challenge", "581367186")])).flattened)
        #expect(login.actionID != challenge.actionID)
        #expect(login.action.name == "Login")
        #expect(login.action.fields == [
            field("AuthType", "MD5"), field("Username", "bridge"), field("Key", "a69367ec11f57e5a9248a5aa1c23cd7b"),
        ])

        // The login answer completes the session like a plain login.
        let accepted = machine.frameReceived(response("Success", login.actionID)).flattened
        #expect(accepted.first == .cancelTimer(.login))
        #expect(accepted.last == .reportLoggedIn(banner: banner))
    }

    /// "Error" is a refusal; "Success" without a `Challenge` value gives nothing to hash.
    @Test("a Challenge answer without a challenge closes as loginRejected", arguments: ["Error", "Success"])
    func challengeRefused(status: String) throws {
        var (machine, challenge) = try greeted(md5Configuration)
        let refused = machine.frameReceived(response(status, challenge.actionID, [("Message", "Must specify AuthType")]))
        #expect(refused.flattened == [.closeConnection])
        #expect(closedReason(&machine)?.code == .loginRejected)
    }

    @Test("a message before the banner means this is not an AMI port")
    func messageBeforeBanner() {
        var machine = AMIConnectionStateMachine(configuration: plainConfiguration)
        _ = machine.connected()
        #expect(machine.frameReceived(message(("Response", "Success"))).flattened == [.closeConnection])
        #expect(closedReason(&machine)?.code == .unexpectedBanner)
    }

    @Test("frames before connected are ignored", arguments: [AMIFrame.banner(banner), message(("Event", "FullyBooted"))])
    func framesBeforeConnected(frame: AMIFrame) {
        var machine = AMIConnectionStateMachine(configuration: plainConfiguration)
        #expect(machine.frameReceived(frame).flattened == [.none])
        // Still waiting to connect: the next input that matters is connected().
        #expect(machine.connected().flattened == [.armTimer(.login, .seconds(7))])
    }

    @Test("a second banner closes the connection", arguments: [Phase.awaitingLogin, .loggedIn])
    func secondBanner(phase: Phase) throws {
        var machine = try makeMachine(in: phase)
        #expect(machine.frameReceived(.banner("Asterisk Call Manager/9.0.0")).flattened == [.closeConnection])
        #expect(closedReason(&machine)?.code == .unexpectedBanner)
    }

    // MARK: - Login answer

    @Test("login accepted: cancel the deadline, send Events and each Filter, arm keepalive, report the banner")
    func loginAccepted() throws {
        var (machine, login) = try greeted(plainConfiguration)

        let actions = machine.frameReceived(response("Success", login.actionID, [("Message", "Authentication accepted")])).flattened
        let setup = writes(actions)
        try #require(setup.count == 3)
        #expect(actions == [
            .cancelTimer(.login),
            .write(setup[0].action, actionID: setup[0].actionID),
            .write(setup[1].action, actionID: setup[1].actionID),
            .write(setup[2].action, actionID: setup[2].actionID),
            .armTimer(.keepalive, .seconds(11)),
            .reportLoggedIn(banner: banner),
        ])
        #expect(setup[0].action.name == "Events")
        #expect(setup[0].action.fields == [field("EventMask", "call,user")])
        #expect(setup[1].action.name == "Filter")
        #expect(setup[1].action.fields == [field("Operation", "Add"), field("Filter", "Event: Hangup")])
        #expect(setup[2].action.name == "Filter")
        #expect(setup[2].action.fields == [field("Operation", "Add"), field("Filter", "Event: Newchannel")])
        // Every setup action has its own ActionID, none shared with the login.
        #expect(Set(setup.map(\.actionID) + [login.actionID]).count == 4)
    }

    @Test("login accepted without an event mask or filters writes no setup actions")
    func loginAcceptedWithoutSetup() throws {
        var configuration = plainConfiguration
        configuration.eventMask = nil
        configuration.filters = []
        var (machine, login) = try greeted(configuration)
        #expect(machine.frameReceived(response("Success", login.actionID)).flattened == [
            .cancelTimer(.login), .armTimer(.keepalive, .seconds(11)), .reportLoggedIn(banner: banner),
        ])
    }

    @Test("login rejected: close, then report loginRejected without the secret")
    func loginRejected() throws {
        var (machine, login) = try greeted(plainConfiguration)

        #expect(machine.frameReceived(response("Error", login.actionID, [("Message", "Authentication failed")])).flattened == [.closeConnection])
        let closed = machine.connectionClosed().flattened
        guard case .reportClosed(let reason) = closed.last else {
            Issue.record("no reportClosed last in \(closed)")
            return
        }
        #expect(reason.code == .loginRejected)
        #expect(reason.detail == "Authentication failed")
        #expect(!reason.description.contains("s3cret-AMI"))
        // Nothing else was waiting, so nothing else fails.
        #expect(!closed.contains { if case .failRequest = $0 { true } else { false } })
    }

    @Test("a response with another ActionID does not count as the login answer")
    func foreignResponseDuringLogin() throws {
        var (machine, login) = try greeted(plainConfiguration)
        #expect(machine.frameReceived(response("Error", "somebody-else")).flattened == [.none])
        #expect(machine.frameReceived(response("Success", login.actionID)).flattened.last == .reportLoggedIn(banner: banner))
    }

    // MARK: - Login deadline

    @Test("the login timer closes with bannerTimeout before the banner and loginTimeout during login", arguments: [
        (Phase.awaitingBanner, AMIError.Code.bannerTimeout),
        (Phase.awaitingChallenge, AMIError.Code.loginTimeout),
        (Phase.awaitingLogin, AMIError.Code.loginTimeout),
    ])
    func loginTimerBeforeLogin(phase: Phase, code: AMIError.Code) throws {
        var machine = try makeMachine(in: phase)
        #expect(machine.timerFired(.login).flattened == [.closeConnection])
        #expect(closedReason(&machine)?.code == code)
    }

    @Test("the login timer does nothing once logged in (or before connecting, or when closing)", arguments: [
        Phase.connecting, .loggedIn, .loggingOff, .closing,
    ])
    func loginTimerOtherwise(phase: Phase) throws {
        var machine = try makeMachine(in: phase)
        #expect(machine.timerFired(.login).flattened == [.none])
    }

    // MARK: - Keepalive

    @Test("keepalive after traffic only re-arms")
    func keepaliveWithTraffic() throws {
        var machine = try makeMachine(in: .loggedIn)
        #expect(machine.frameReceived(message(("Event", "Newchannel"), ("Channel", "PJSIP/100-00000001"))).flattened.count == 1)
        #expect(machine.timerFired(.keepalive).flattened == [.armTimer(.keepalive, .seconds(11))])
    }

    @Test("keepalive on a silent connection sends Ping, arms the pong deadline and re-arms; the answer cancels the deadline")
    func keepaliveWithoutTraffic() throws {
        var machine = try makeMachine(in: .loggedIn)
        let actions = machine.timerFired(.keepalive).flattened
        let ping = try #require(writes(actions).first)
        #expect(actions == [
            .write(ping.action, actionID: ping.actionID),
            .armTimer(.pong, .seconds(3)),
            .armTimer(.keepalive, .seconds(11)),
        ])
        #expect(ping.action.name == "Ping")
        #expect(ping.action.fields.isEmpty)

        // Asterisk's answer to Ping: not an event, just the end of the pong deadline.
        #expect(machine.frameReceived(response("Success", ping.actionID, [("Ping", "Pong"), ("Timestamp", "1764085495.123456")])).flattened == [.cancelTimer(.pong)])
        // A pong deadline that fires anyway (it raced the cancel) does nothing.
        #expect(machine.timerFired(.pong).flattened == [.none])
    }

    @Test("keepalive while a Ping is unanswered does not send a second Ping")
    func keepaliveWithPingOutstanding() throws {
        var machine = try makeMachine(in: .loggedIn)
        let firstPing = writes(machine.timerFired(.keepalive).flattened)
        #expect(firstPing.count == 1)
        #expect(machine.timerFired(.keepalive).flattened == [.armTimer(.keepalive, .seconds(11))])
    }

    @Test("an unanswered Ping closes with pingTimeout")
    func pongTimeout() throws {
        var machine = try makeMachine(in: .loggedIn)
        #expect(writes(machine.timerFired(.keepalive).flattened).count == 1)
        #expect(machine.timerFired(.pong).flattened == [.closeConnection])
        #expect(closedReason(&machine)?.code == .pingTimeout)
    }

    @Test("while reading is paused (consumer behind) a silent connection is not pinged")
    func pausedReadSendsNoPing() throws {
        var machine = try makeMachine(in: .loggedIn)
        #expect(machine.readingPaused().flattened == [.none])
        #expect(machine.timerFired(.keepalive).flattened == [.armTimer(.keepalive, .seconds(11))])
        #expect(machine.timerFired(.keepalive).flattened == [.armTimer(.keepalive, .seconds(11))])
        // Resumed: bytes are about to flow, so the next interval only re-arms; a silent one pings.
        #expect(machine.readingResumed().flattened == [.none])
        #expect(machine.timerFired(.keepalive).flattened == [.armTimer(.keepalive, .seconds(11))])
        #expect(writes(machine.timerFired(.keepalive).flattened).map(\.action.name) == ["Ping"])
    }

    @Test("a Ping outstanding when reading pauses is not timed while paused, and gets a full deadline on resume")
    func pausedReadStopsPongDeadline() throws {
        var machine = try makeMachine(in: .loggedIn)
        let ping = try #require(writes(machine.timerFired(.keepalive).flattened).first)
        #expect(machine.readingPaused().flattened == [.cancelTimer(.pong)])
        #expect(machine.readingPaused().flattened == [.none], "pausing twice changes nothing")
        // A deadline that raced the cancel does not close a paused connection.
        #expect(machine.timerFired(.pong).flattened == [.none])
        #expect(machine.readingResumed().flattened == [.armTimer(.pong, .seconds(3))])
        #expect(machine.readingResumed().flattened == [.none], "resuming twice changes nothing")
        #expect(machine.frameReceived(response("Success", ping.actionID, [("Ping", "Pong")])).flattened == [.cancelTimer(.pong)])
    }

    @Test("an outstanding Ping still unanswered a full timeout after resuming closes with pingTimeout")
    func pongTimeoutAfterResume() throws {
        var machine = try makeMachine(in: .loggedIn)
        #expect(writes(machine.timerFired(.keepalive).flattened).count == 1)
        _ = machine.readingPaused()
        _ = machine.readingResumed()
        #expect(machine.timerFired(.pong).flattened == [.closeConnection])
        #expect(closedReason(&machine)?.code == .pingTimeout)
    }

    @Test("keepalive and pong timers do nothing outside a logged-in session", arguments: [
        Phase.connecting, .awaitingBanner, .awaitingLogin, .loggingOff, .closing, .closed,
    ])
    func keepaliveOutsideSession(phase: Phase) throws {
        var machine = try makeMachine(in: phase)
        #expect(machine.timerFired(.keepalive).flattened == [.none])
        #expect(machine.timerFired(.pong).flattened == [.none])
    }

    // MARK: - Requests

    @Test("a request while not logged in fails with notConnected", arguments: [
        Phase.connecting, .awaitingBanner, .awaitingChallenge, .awaitingLogin, .loggingOff, .closing, .closed,
    ])
    func requestWhileNotLoggedIn(phase: Phase) throws {
        var machine = try makeMachine(in: phase)
        let actions = machine.requestSent(.coreShowChannels, actionID: "r1", timeout: .seconds(2)).flattened
        #expect(soleFailure(of: "r1", in: actions)?.code == .notConnected)
    }

    @Test("a request is written with its ActionID and its own deadline")
    func requestWritten() throws {
        var machine = try makeMachine(in: .loggedIn)
        let hangup = AMIAction.hangup(channel: "PJSIP/100-00000001", cause: 16)
        #expect(machine.requestSent(hangup, actionID: "r1", timeout: .seconds(2)).flattened == [
            .write(hangup, actionID: "r1"), .armTimer(.action("r1"), .seconds(2)),
        ])
    }

    @Test("a second request with a pending ActionID fails without being written")
    func duplicateActionID() throws {
        var machine = try makeMachine(in: .loggedIn)
        _ = machine.requestSent(.ping, actionID: "r1", timeout: .seconds(2))
        let actions = machine.requestSent(.coreShowChannels, actionID: "r1", timeout: .seconds(2)).flattened
        #expect(soleFailure(of: "r1", in: actions)?.code == .invalidAction)

        // The first request is untouched: its answer still completes it.
        let answer = AMIMessage([("Response", "Success"), ("ActionID", "r1"), ("Ping", "Pong")])
        #expect(machine.frameReceived(.message(answer)).flattened == [
            .cancelTimer(.action("r1")), .succeedRequest(actionID: "r1", AMIResponse(message: answer)),
        ])
        // Once answered, the ActionID may be used again.
        #expect(writes(machine.requestSent(.ping, actionID: "r1", timeout: .seconds(2)).flattened).count == 1)
    }

    @Test("a response completes its request, success or error", arguments: ["Success", "Error"])
    func responseCompletesRequest(status: String) throws {
        var machine = try makeMachine(in: .loggedIn)
        _ = machine.requestSent(.hangup(channel: "PJSIP/100-00000001"), actionID: "r1", timeout: .seconds(2))
        let answer = AMIMessage([("Response", status), ("ActionID", "r1"), ("Message", "Channel Hungup")])
        #expect(machine.frameReceived(.message(answer)).flattened == [
            .cancelTimer(.action("r1")), .succeedRequest(actionID: "r1", AMIResponse(message: answer)),
        ])
        // Answered once: a repeated answer is nobody's.
        #expect(machine.frameReceived(.message(answer)).flattened == [.none])
    }

    @Test("an event list is collected and completes with its items and its Complete event")
    func eventList() throws {
        var machine = try makeMachine(in: .loggedIn)
        _ = machine.requestSent(.coreShowChannels, actionID: "list1", timeout: .seconds(5))

        let start = AMIMessage([("Response", "Success"), ("ActionID", "list1"), ("EventList", "start"), ("Message", "Channels will follow")])
        let items = ["PJSIP/100-00000001", "PJSIP/200-00000002"].map { channel in
            AMIMessage([("Event", "CoreShowChannel"), ("ActionID", "list1"), ("Channel", channel)])
        }
        let complete = AMIMessage([("Event", "CoreShowChannelsComplete"), ("ActionID", "list1"), ("EventList", "Complete"), ("ListItems", "2")])
        let unrelated = AMIMessage([("Event", "Newexten"), ("Channel", "PJSIP/300-00000003")])

        #expect(machine.frameReceived(.message(start)).flattened == [.none])
        #expect(machine.frameReceived(.message(items[0])).flattened == [.none])
        // Events of the session keep flowing while the list is collected.
        #expect(machine.frameReceived(.message(unrelated)).flattened == [.deliverEvent(unrelated)])
        #expect(machine.frameReceived(.message(items[1])).flattened == [.none])
        #expect(machine.frameReceived(.message(complete)).flattened == [
            .cancelTimer(.action("list1")),
            .succeedRequest(actionID: "list1", AMIResponse(message: start, listItems: items, listComplete: complete)),
        ])
    }

    @Test("an action timeout fails the request; its late answer is dropped, not delivered as an event")
    func actionTimeout() throws {
        var machine = try makeMachine(in: .loggedIn)
        _ = machine.requestSent(.hangup(channel: "PJSIP/100-00000001"), actionID: "r1", timeout: .seconds(2))
        let actions = machine.timerFired(.action("r1")).flattened
        #expect(soleFailure(of: "r1", in: actions)?.code == .actionTimeout)
        #expect(machine.frameReceived(response("Success", "r1", [("Message", "Channel Hungup")])).flattened == [.none])
        // The timer of a finished request does nothing.
        #expect(machine.timerFired(.action("r1")).flattened == [.none])
    }

    @Test("items of a list that timed out mid-way are not delivered as session events")
    func timedOutListItems() throws {
        var machine = try makeMachine(in: .loggedIn)
        _ = machine.requestSent(.coreShowChannels, actionID: "list1", timeout: .seconds(5))
        _ = machine.frameReceived(.message(AMIMessage([("Response", "Success"), ("ActionID", "list1"), ("EventList", "start")])))
        _ = machine.timerFired(.action("list1"))

        let lateItem = AMIMessage([("Event", "CoreShowChannel"), ("ActionID", "list1"), ("Channel", "PJSIP/100-00000001")])
        let lateComplete = AMIMessage([("Event", "CoreShowChannelsComplete"), ("ActionID", "list1"), ("EventList", "Complete"), ("ListItems", "1")])
        let afterItem = machine.frameReceived(.message(lateItem)).flattened
        let afterComplete = machine.frameReceived(.message(lateComplete)).flattened
        #expect(afterItem == [.none])
        #expect(afterComplete == [.none])
        // Once the list is over, events with that ActionID are events again.
        let later = AMIMessage([("Event", "UserEvent"), ("ActionID", "list1"), ("UserEvent", "X")])
        #expect(machine.frameReceived(.message(later)).flattened == [.deliverEvent(later)])
    }

    @Test("lists nobody asked for, started and never ended, keep at most drainingListLimit being drained")
    func unansweredListsAreBounded() throws {
        var machine = try makeMachine(in: .loggedIn)
        for index in 0..<10_000 {
            let start = AMIMessage([("Response", "Success"), ("ActionID", "stray\(index)"), ("EventList", "start")])
            #expect(machine.frameReceived(.message(start)).flattened == [.none])
        }
        #expect(machine.drainingLists.count == AMIConnectionStateMachine.drainingListLimit)
        // The newest is still drained: its late item is not taken for an event.
        let lateItem = AMIMessage([("Event", "CoreShowChannel"), ("ActionID", "stray9999"), ("Channel", "PJSIP/100-00000001")])
        #expect(machine.frameReceived(.message(lateItem)).flattened == [.none])
    }

    // MARK: - Events

    @Test("an event that answers no pending action is delivered", arguments: [
        AMIMessage([("Event", "Hangup"), ("Channel", "PJSIP/100-00000001"), ("Cause", "16")]),
        AMIMessage([("Event", "UserEvent"), ("ActionID", "other-client-7"), ("UserEvent", "Ping")]),
    ])
    func sessionEvent(event: AMIMessage) throws {
        var machine = try makeMachine(in: .loggedIn)
        #expect(machine.frameReceived(.message(event)).flattened == [.deliverEvent(event)])
    }

    @Test("OriginateResponse is an event: it carries Response and the Originate's ActionID, but starts with Event")
    func originateResponseIsAnEvent() throws {
        var machine = try makeMachine(in: .loggedIn)
        let originate = AMIAction.originate(channel: "PJSIP/100", context: "from-internal", exten: "200")
        _ = machine.requestSent(originate, actionID: "o1", timeout: .seconds(2))
        let queued = AMIMessage([("Response", "Success"), ("ActionID", "o1"), ("Message", "Originate successfully queued")])
        #expect(machine.frameReceived(.message(queued)).flattened == [
            .cancelTimer(.action("o1")), .succeedRequest(actionID: "o1", AMIResponse(message: queued)),
        ])

        let outcome = AMIMessage([
            ("Event", "OriginateResponse"), ("ActionID", "o1"), ("Response", "Failure"),
            ("Channel", "PJSIP/100"), ("Exten", "200"), ("Reason", "3"),
        ])
        #expect(machine.frameReceived(.message(outcome)).flattened == [.deliverEvent(outcome)])
    }

    @Test("a response nobody waits for is dropped")
    func unknownResponse() throws {
        var machine = try makeMachine(in: .loggedIn)
        #expect(machine.frameReceived(response("Success", "never-sent")).flattened == [.none])
    }

    @Test("Shutdown is delivered, then closes with serverShutdown")
    func shutdownEvent() throws {
        var machine = try makeMachine(in: .loggedIn)
        let shutdown = AMIMessage([("Event", "Shutdown"), ("Privilege", "system,all"), ("Shutdown", "Cleanly"), ("Restart", "False")])
        #expect(machine.frameReceived(.message(shutdown)).flattened == [.deliverEvent(shutdown), .closeConnection])
        #expect(closedReason(&machine)?.code == .serverShutdown)
    }

    @Test("the answers to Events and Filter are not events; a refusal is only a warning")
    func setupAnswers() throws {
        var machine = AMIConnectionStateMachine(configuration: plainConfiguration)
        let setup = writes(try logIn(&machine))
        try #require(setup.count == 3)

        #expect(machine.frameReceived(response("Success", setup[0].actionID, [("Events", "On")])).flattened == [.none])
        let refused = machine.frameReceived(response("Error", setup[1].actionID, [("Message", "Permission denied")])).flattened
        guard case .logWarning(let warning) = refused.first, refused.count == 1 else {
            Issue.record("expected one logWarning, got \(refused)")
            return
        }
        #expect(warning.contains("Permission denied"))
        #expect(machine.frameReceived(response("Success", setup[2].actionID)).flattened == [.none])
        // The session goes on: requests are still accepted.
        #expect(writes(machine.requestSent(.ping, actionID: "r1", timeout: .seconds(2)).flattened).count == 1)
    }

    // MARK: - Logoff

    @Test("logoff when logged in: Logoff and its deadline; Goodbye closes as clientShutdown")
    func logoffGoodbye() throws {
        var machine = try makeMachine(in: .loggedIn)
        let actions = machine.logoffRequested(timeout: .seconds(1)).flattened
        let logoff = try #require(writes(actions).first)
        #expect(actions == [.write(logoff.action, actionID: logoff.actionID), .armTimer(.logoff, .seconds(1))])
        #expect(logoff.action.name == "Logoff")
        #expect(logoff.action.fields.isEmpty)
        // Asking again while logging off does nothing.
        #expect(machine.logoffRequested(timeout: .seconds(1)).flattened == [.none])

        let goodbye = machine.frameReceived(response("Goodbye", logoff.actionID, [("Message", "Thanks for all the fish.")]))
        #expect(goodbye.flattened == [.closeConnection])
        #expect(closedReason(&machine)?.code == .clientShutdown)
    }

    @Test("logoff unanswered: the logoff timer closes as clientShutdown")
    func logoffTimer() throws {
        var machine = try makeMachine(in: .loggingOff)
        #expect(machine.timerFired(.logoff).flattened == [.closeConnection])
        #expect(closedReason(&machine)?.code == .clientShutdown)
    }

    @Test("the logoff timer does nothing unless logging off", arguments: [Phase.awaitingBanner, .loggedIn, .closing, .closed])
    func logoffTimerOtherwise(phase: Phase) throws {
        var machine = try makeMachine(in: phase)
        #expect(machine.timerFired(.logoff).flattened == [.none])
    }

    @Test("logoff before login closes at once as clientShutdown", arguments: [
        Phase.connecting, .awaitingBanner, .awaitingChallenge, .awaitingLogin,
    ])
    func logoffBeforeLogin(phase: Phase) throws {
        var machine = try makeMachine(in: phase)
        #expect(machine.logoffRequested(timeout: .seconds(1)).flattened == [.closeConnection])
        #expect(closedReason(&machine)?.code == .clientShutdown)
    }

    // MARK: - Closing

    @Test("the peer closing a session fails every pending request and reports connectionClosed")
    func connectionClosedWithPendingRequests() throws {
        var machine = try makeMachine(in: .loggedIn)
        _ = machine.requestSent(.coreShowChannels, actionID: "r1", timeout: .seconds(2))
        _ = machine.requestSent(.ping, actionID: "r2", timeout: .seconds(2))

        let actions = machine.connectionClosed().flattened
        guard case .reportClosed(let reason) = actions.last else {
            Issue.record("no reportClosed last in \(actions)")
            return
        }
        #expect(reason.code == .connectionClosed)
        #expect(actions.filter { if case .reportClosed = $0 { true } else { false } }.count == 1)
        for timer in [AMIConnectionStateMachine.TimerID.keepalive, .pong, .action("r1"), .action("r2")] {
            #expect(actions.contains(.cancelTimer(timer)), "timer \(timer) not cancelled")
        }
        let failed = actions.compactMap { action -> (String, AMIError.Code)? in
            if case .failRequest(let actionID, let error) = action { (actionID, error.code) } else { nil }
        }
        #expect(failed.map(\.0).sorted() == ["r1", "r2"])
        #expect(failed.allSatisfy { $0.1 == .connectionClosed })

        // Failed once: their timers, firing late, fail nothing again.
        #expect(machine.timerFired(.action("r1")).flattened == [.none])
    }

    @Test("errorCaught closes with that error; the first reason wins")
    func errorCaught() throws {
        var machine = try makeMachine(in: .loggedIn)
        let error = AMIError(.malformedFrame, "a header line without a colon", detail: "line 3")
        #expect(machine.errorCaught(error).flattened == [.closeConnection])
        #expect(machine.errorCaught(AMIError(.lineTooLong, "too long")).flattened == [.none])
        #expect(machine.timerFired(.pong).flattened == [.none])
        #expect(closedReason(&machine) == error)
    }

    @Test("while closing, answers and events are no longer handed out")
    func closingIgnoresMessages() throws {
        var machine = try makeMachine(in: .loggedIn)
        _ = machine.requestSent(.ping, actionID: "r1", timeout: .seconds(2))
        _ = machine.errorCaught(AMIError(.malformedFrame, "bad"))
        #expect(machine.frameReceived(response("Success", "r1")).flattened == [.none])
        #expect(machine.frameReceived(message(("Event", "Hangup"))).flattened == [.none])
        // The pending request fails when the socket is gone.
        #expect(machine.connectionClosed().flattened.contains { if case .failRequest(actionID: "r1", _) = $0 { true } else { false } })
    }

    @Test("after connectionClosed every input does nothing; a request still fails so its caller is answered")
    func inputsAfterClosed() throws {
        var machine = try makeMachine(in: .closed)
        #expect(machine.connected().flattened == [.none])
        #expect(machine.frameReceived(.banner(banner)).flattened == [.none])
        #expect(machine.frameReceived(response("Success", "r1")).flattened == [.none])
        #expect(machine.frameReceived(message(("Event", "Shutdown"))).flattened == [.none])
        for timer in [AMIConnectionStateMachine.TimerID.login, .keepalive, .pong, .action("r1"), .logoff] {
            #expect(machine.timerFired(timer).flattened == [.none], "timer \(timer)")
        }
        #expect(machine.errorCaught(AMIError(.malformedFrame, "bad")).flattened == [.none])
        #expect(machine.logoffRequested(timeout: .seconds(1)).flattened == [.none])
        #expect(machine.connectionClosed().flattened == [.none])
        let actions = machine.requestSent(.ping, actionID: "r1", timeout: .seconds(1)).flattened
        #expect(soleFailure(of: "r1", in: actions)?.code == .notConnected)
    }
}

// MARK: - Helpers

private let banner = "Asterisk Call Manager/9.0.0"

private let plainConfiguration = AMIConnectionStateMachine.Configuration(
    username: "bridge",
    secret: "s3cret-AMI",
    authentication: .plain,
    eventMask: "call,user",
    filters: ["Event: Hangup", "Event: Newchannel"],
    loginTimeout: .seconds(7),
    keepaliveInterval: .seconds(11),
    pingTimeout: .seconds(3)
)

private let md5Configuration: AMIConnectionStateMachine.Configuration = {
    var configuration = plainConfiguration
    configuration.authentication = .md5
    return configuration
}()

extension AMIConnectionStateMachineTests {
    /// Where a test starts: each phase is reached through the public inputs only.
    enum Phase: String, Sendable, CustomTestStringConvertible {
        case connecting, awaitingBanner, awaitingChallenge, awaitingLogin, loggedIn, loggingOff, closing, closed

        var testDescription: String { rawValue }
    }
}

private func makeMachine(in phase: AMIConnectionStateMachineTests.Phase) throws -> AMIConnectionStateMachine {
    var machine = AMIConnectionStateMachine(configuration: phase == .awaitingChallenge ? md5Configuration : plainConfiguration)
    switch phase {
    case .connecting:
        break
    case .awaitingBanner:
        _ = machine.connected()
    case .awaitingChallenge, .awaitingLogin:
        _ = machine.connected()
        _ = try soleWrite(machine.frameReceived(.banner(banner)).flattened)
    case .loggedIn:
        try logIn(&machine)
    case .loggingOff:
        try logIn(&machine)
        try #require(writes(machine.logoffRequested(timeout: .seconds(1)).flattened).count == 1)
    case .closing:
        try logIn(&machine)
        try #require(machine.errorCaught(AMIError(.malformedFrame, "bad")).flattened == [.closeConnection])
    case .closed:
        try logIn(&machine)
        try #require(closedReason(&machine)?.code == .connectionClosed)
    }
    return machine
}

/// A machine that got the banner, and the one action it wrote in answer (Login or Challenge).
private func greeted(
    _ configuration: AMIConnectionStateMachine.Configuration
) throws -> (AMIConnectionStateMachine, (action: AMIAction, actionID: String)) {
    var machine = AMIConnectionStateMachine(configuration: configuration)
    _ = machine.connected()
    let write = try soleWrite(machine.frameReceived(.banner(banner)).flattened)
    return (machine, write)
}

/// Connect, banner and a plain login answered with success; returns the login answer's actions.
@discardableResult
private func logIn(_ machine: inout AMIConnectionStateMachine) throws -> [AMIConnectionStateMachine.Action] {
    _ = machine.connected()
    let login = try soleWrite(machine.frameReceived(.banner(banner)).flattened)
    let actions = machine.frameReceived(response("Success", login.actionID, [("Message", "Authentication accepted")])).flattened
    try #require(actions.last == .reportLoggedIn(banner: banner))
    return actions
}

/// The reason `connectionClosed()` reports, which must be its last action.
private func closedReason(_ machine: inout AMIConnectionStateMachine) -> AMIError? {
    guard case .reportClosed(let reason) = machine.connectionClosed().flattened.last else { return nil }
    return reason
}

/// The one write that `actions` must consist of.
private func soleWrite(
    _ actions: [AMIConnectionStateMachine.Action],
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> (action: AMIAction, actionID: String) {
    let written = writes(actions)
    try #require(actions.count == 1 && written.count == 1, "expected one write, got \(actions)", sourceLocation: sourceLocation)
    return written[0]
}

private func writes(_ actions: [AMIConnectionStateMachine.Action]) -> [(action: AMIAction, actionID: String)] {
    actions.compactMap { action in
        if case .write(let written, let actionID) = action { (written, actionID) } else { nil }
    }
}

/// The error of the one `failRequest` for `actionID` that `actions` must consist of.
private func soleFailure(of actionID: String, in actions: [AMIConnectionStateMachine.Action]) -> AMIError? {
    guard actions.count == 1, case .failRequest(actionID: actionID, let error) = actions[0] else { return nil }
    return error
}

private func message(_ fields: (String, String)...) -> AMIFrame {
    .message(AMIMessage(fields.map { (name: $0.0, value: $0.1) }))
}

private func response(_ status: String, _ actionID: String, _ extra: [(String, String)] = []) -> AMIFrame {
    .message(AMIMessage(([("Response", status), ("ActionID", actionID)] + extra).map { (name: $0.0, value: $0.1) }))
}

private func field(_ name: String, _ value: String) -> AMIField {
    AMIField(name: name, value: value)
}

extension AMIConnectionStateMachine.Action {
    /// The action as a list, `.many` unpacked (nested ones too) so sequences compare whole.
    fileprivate var flattened: [Self] {
        if case .many(let actions) = self { return actions.flatMap(\.flattened) }
        return [self]
    }
}
