import AMIProtocol
import FuzzSupport

// Fuzzes `AMIConnectionStateMachine` with every input it has, in any order: frames from the
// recorded sessions (as they are, or re-addressed to the actions the machine wrote), requests,
// timers, backpressure, errors, logoff and the socket closing.
//
// Properties: no crash; every request is answered exactly once, and none is left when the
// connection closes; nothing is written and no event is delivered once the machine asked to close;
// login and close are reported once each.

let sessions = RecordedSessions.load()
let messages = sessions.messages
let banners = sessions.banners + ["Asterisk Call Manager/1.1", "Asterisk Call Manager/", "Asterisk Call Manager/99.0.0 extra"]

enum Operation: UInt8, CaseIterable {
    case connect, banner, frame, reply, request, loginTimer, keepaliveTimer, pongTimer, actionTimer, logoffTimer
    case pauseOrResume, error, logoff, close
}

/// How `reply` re-addresses a recorded message to an action the machine wrote.
enum Reply: UInt8, CaseIterable {
    case sameMessage, listStart, listComplete, success, error, goodbye, follows
}

/// Writes the seeds when asked (`AMIBRIDGE_FUZZ_SEEDS`), else runs libFuzzer.
@_cdecl("FuzzAMIConnection_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    SeedCorpus.writeIfAsked {
        var start = 0
        return sessions.sessions.map { session in
            // Connect, greet, accept the login, then the session's messages: responses and list
            // items answer a request made just before, as they answered the recording client.
            var program: [UInt8] = [Operation.connect.rawValue, Operation.banner.rawValue, 0,
                                    Operation.reply.rawValue, 0, 0, Reply.success.rawValue, 0]
            for case .message(let message, _) in session.items {
                let index = [UInt8(start & 0xFF), UInt8(start >> 8)]
                start += 1
                if message.isResponse {
                    program += [Operation.request.rawValue, UInt8(start % 251), Operation.reply.rawValue] + index + [Reply.sameMessage.rawValue, 0]
                } else if message.actionID != nil {
                    program += [Operation.reply.rawValue] + index + [Reply.sameMessage.rawValue, 0]
                } else {
                    program += [Operation.frame.rawValue] + index
                }
            }
            return (session.name, program + [Operation.close.rawValue])
        }
    }
    return runLibFuzzer(argc, argv, fuzzConnection)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConnection(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    var connection = Connection()
    while !input.isAtEnd {
        let operation = Operation.allCases[Int(input.byte()) % Operation.allCases.count]
        switch operation {
        case .connect:
            connection.run(connection.machine.connected())
        case .banner:
            connection.run(connection.machine.frameReceived(.banner(input.element(of: banners)!)))
        case .frame:
            connection.run(connection.machine.frameReceived(.message(messages[input.index(below: messages.count)])))
        case .reply:
            let message = messages[input.index(below: messages.count)]
            let reply = Reply.allCases[Int(input.byte()) % Reply.allCases.count]
            let actionID = connection.recentActionID(input.byte())
            connection.run(connection.machine.frameReceived(.message(addressed(message, to: actionID, as: reply))))
        case .request:
            let actionID = "fuzz-\(input.byte() % 8)"
            let action = [AMIAction.ping, .coreShowChannels, .command("core show channels"), .hangup(channel: "SIP/1001-00000001")][Int(input.byte()) % 4]
            connection.request(action, actionID: actionID)
        case .loginTimer:
            connection.run(connection.machine.timerFired(.login))
        case .keepaliveTimer:
            connection.run(connection.machine.timerFired(.keepalive))
        case .pongTimer:
            connection.run(connection.machine.timerFired(.pong))
        case .actionTimer:
            connection.run(connection.machine.timerFired(.action(connection.recentActionID(input.byte()))))
        case .logoffTimer:
            connection.run(connection.machine.timerFired(.logoff))
        case .pauseOrResume:
            connection.run(input.byte() % 2 == 0 ? connection.machine.readingPaused() : connection.machine.readingResumed())
        case .error:
            connection.run(connection.machine.errorCaught(AMIError(.malformedFrame, "fuzz")))
        case .logoff:
            connection.run(connection.machine.logoffRequested(timeout: .seconds(1)))
        case .close:
            connection.finish()
            connection = Connection()
        }
    }
    connection.finish()
    return 0
}

func addressed(_ message: AMIMessage, to actionID: String, as reply: Reply) -> AMIMessage {
    let message = message.setting("ActionID", to: actionID)
    switch reply {
    case .sameMessage: return message
    case .listStart: return message.setting("EventList", to: "start")
    case .listComplete: return message.setting("EventList", to: "Complete")
    case .success: return message.setting("Response", to: "Success", first: true).setting("Challenge", to: "1234")
    case .error: return message.setting("Response", to: "Error", first: true)
    case .goodbye: return message.setting("Response", to: "Goodbye", first: true)
    case .follows: return message.setting("Response", to: "Follows", first: true)
    }
}

/// One connection's state machine and what its actions have promised so far.
struct Connection {
    var machine = AMIConnectionStateMachine(configuration: .init(username: "admin", secret: "secret", filters: ["Event: Hangup"]))
    /// Requests written and not yet answered.
    var outstanding: Set<String> = []
    /// ActionIDs written, newest last (the last 16): what replies and action timers pick from.
    var written: [String] = []
    var closing = false
    var loggedIn = false
    var closed = false

    func recentActionID(_ choice: UInt8) -> String {
        written.isEmpty ? "none" : written[written.count - 1 - Int(choice) % written.count]
    }

    mutating func request(_ action: AMIAction, actionID: String) {
        let result = machine.requestSent(action, actionID: actionID, timeout: .seconds(5))
        // Refused on the spot (not logged in, or the ActionID is taken): answered, not pending.
        if case .failRequest = result { return }
        outstanding.insert(actionID)
        run(result)
    }

    /// The socket closes: every request still waiting fails, and the machine goes quiet.
    mutating func finish() {
        run(machine.connectionClosed())
        fuzzCheck(outstanding.isEmpty, "requests left unanswered after the close: \(outstanding.sorted())")
        fuzzCheck(closed, "the close was not reported")
        fuzzCheck(machine.connectionClosed() == .none, "a second close did something")
    }

    mutating func run(_ action: AMIConnectionStateMachine.Action) {
        switch action {
        case .none, .armTimer, .cancelTimer, .logWarning:
            break
        case .write(_, let actionID):
            fuzzCheck(!closing, "a write after the machine asked to close")
            written.append(actionID)
            if written.count > 16 { written.removeFirst() }
        case .reportLoggedIn:
            fuzzCheck(!loggedIn && !closing, "login reported twice or while closing")
            loggedIn = true
        case .deliverEvent:
            fuzzCheck(!closing, "an event delivered after the machine asked to close")
        case .succeedRequest(let actionID, _), .failRequest(let actionID, _):
            fuzzCheck(outstanding.remove(actionID) != nil, "request \(actionID) answered twice, or never made")
        case .closeConnection:
            closing = true
        case .reportClosed:
            fuzzCheck(!closed, "close reported twice")
            closing = true
            closed = true
        case .many(let actions):
            for action in actions { run(action) }
        }
    }
}
