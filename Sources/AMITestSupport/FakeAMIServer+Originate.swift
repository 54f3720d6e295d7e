import AMIProtocol

extension FakeAMIServer {
    /// Asterisk that queues every Originate (`Response: Success`) at once. With `reportingSuccess`
    /// an `OriginateResponse` saying success follows straight away (a call that never makes a
    /// channel, so nothing else is tracked: the click-to-call benchmark's load); without it,
    /// nothing more is said about the call, so its OriginateResponse never comes.
    public static func queuingOriginates(reportingSuccess: Bool = false) -> Behavior {
        asterisk { session in
            while let action = try await session.nextAction() {
                guard action["Action"] == "Originate" else {
                    guard try await session.answerGenerically(action) else { return }
                    continue
                }
                let id = action.actionID.map { "ActionID: \($0)\r\n" } ?? ""
                var answer = "Response: Success\r\n\(id)Message: Originate successfully queued\r\n\r\n"
                if reportingSuccess {
                    answer += "Event: OriginateResponse\r\nPrivilege: call,all\r\n\(id)Response: Success\r\nChannel: \(action["Channel"] ?? "")\r\n"
                        + "Context: \(action["Context"] ?? "")\r\nExten: \(action["Exten"] ?? "")\r\nReason: 4\r\nUniqueid: <unknown>\r\n"
                        + "CallerIDNum: <unknown>\r\nCallerIDName: <unknown>\r\n\r\n"
                }
                try await session.write(answer)
            }
        }
    }

    /// A fake Asterisk 20 that answers every `Originate` with the recorded session whose own
    /// Originate asked for the same `Channel` and `Exten`: the recorded response and events, with the
    /// recording's ActionID replaced by the one the client sent, written as fast as the client
    /// reads. An Originate for a channel no recording has gets `Response: Success` and nothing more
    /// (so its OriginateResponse never comes). Calls are answered one after another on one session,
    /// as the recordings were made: a test places one call, waits for it, then the next.
    public static func answeringOriginates(from captures: [AMICapture]) -> Behavior {
        let answers = Dictionary(captures.compactMap(OriginateAnswer.init).map { ($0.key, $0) }) { first, _ in first }
        return asterisk { session in
            while let action = try await session.nextAction() {
                guard action["Action"] == "Originate" else {
                    guard try await session.answerGenerically(action) else { return }
                    continue
                }
                let actionID = action.actionID ?? ""
                guard let answer = answers[OriginateAnswer.key(channel: action["Channel"], exten: action["Exten"])] else {
                    try await session.write("Response: Success\r\nActionID: \(actionID)\r\nMessage: Originate successfully queued\r\n\r\n")
                    continue
                }
                for chunk in CaptureReplay.rewrite(answer.chunks, actionIDs: [answer.actionID: actionID]) {
                    try await session.write(chunk)
                }
            }
        }
    }

    /// What Asterisk sent after a recorded Originate, until the recording client's next action.
    struct OriginateAnswer: Sendable {
        var key: String
        var actionID: String
        var chunks: [String]

        static func key(channel: String?, exten: String?) -> String { "\(channel ?? "") \(exten ?? "")" }

        init?(_ capture: AMICapture) {
            var found: (key: String, actionID: String)?
            var chunks: [String] = []
            for entry in capture.entries {
                switch entry.dir {
                case .send:
                    if found != nil { break }
                    if let action = CaptureReplay.parseAction(entry.data), action["Action"] == "Originate",
                       let actionID = action.actionID {
                        found = (Self.key(channel: action["Channel"], exten: action["Exten"]), actionID)
                    }
                    continue
                case .recv:
                    if found != nil { chunks.append(entry.data) }
                    continue
                case .close:
                    break
                }
                if found != nil { break }
            }
            guard let found else { return nil }
            key = found.key
            actionID = found.actionID
            self.chunks = chunks
        }
    }
}
