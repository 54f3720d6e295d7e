import AMIProtocol
import AMITestSupport
import NIOCore
import Synchronization
import Testing

/// What a recording says a client should see, computed from the recorded bytes alone.
struct RecordedSession {
    var banner: String?
    var loginAccepted: Bool
    var eventFields: [[AMIField]]
    var responses: [AMIResponse]
    /// The actions the recording client sent after logging in, to be sent again.
    var clientActions: [(recordedID: String?, action: AMIAction)]
    var originateResponses: Int
    var endsWithClose: Bool
    var username: String
    var secret: String?
    var authentication: AMIConnectionStateMachine.Configuration.Authentication

    init(_ capture: AMICapture) throws {
        var decoder = AMIFrameDecoder()
        var buffer = ByteBuffer(bytes: capture.receivedBytes)
        var frames: [AMIFrame] = []
        while let frame = try decoder.decode(buffer: &buffer) { frames.append(frame) }

        let sent = try capture.entries.filter { $0.dir == .send }.compactMap { entry -> AMIMessage? in
            var buffer = ByteBuffer(string: entry.data)
            var decoder = AMIFrameDecoder()
            if case .message(let message)? = try decoder.decode(buffer: &buffer) { return message }
            return nil
        }
        let login = sent.first { $0["Action"] == "Login" }
        username = login?["Username"] ?? "bridge"
        secret = login?["Secret"]
        authentication = login?["AuthType"] == "MD5" ? .md5 : .plain
        endsWithClose = capture.endsWithClose

        banner = frames.compactMap { if case .banner(let text) = $0 { return text } else { return nil } }.first
        let messages = frames.compactMap { if case .message(let message) = $0 { return message } else { return nil } }
        let loginResponse = messages.first { $0.actionID == login?.actionID && $0.recordedKind == "Response" }
        loginAccepted = loginResponse?.isSuccessResponse == true

        clientActions = loginAccepted ? sent.filter { !["Login", "Challenge"].contains($0["Action"] ?? "") }.map { message in
            let fields = message.fields.filter { $0.name != "Action" && $0.name != "ActionID" }.map { ($0.name, $0.value) }
            return (message.actionID, AMIAction(message["Action"] ?? "", fields))
        } : []

        // Responses to those actions, with the list items that belong to them.
        let listIDs = Set(messages.filter { $0.recordedKind == "Response" && $0.eventList?.lowercased() == "start" }.compactMap(\.actionID))
        responses = clientActions.compactMap { recordedID, _ in
            guard let response = messages.first(where: { $0.recordedKind == "Response" && $0.actionID == recordedID }) else { return nil }
            let items = messages.filter { $0.recordedKind == "Event" && $0.actionID == recordedID && listIDs.contains(recordedID ?? "") }
            let complete = items.last { $0.eventList?.lowercased() == "complete" }
            return AMIResponse(message: response, listItems: items.filter { $0.eventList == nil }, listComplete: complete)
        }
        let events = messages.filter { $0.recordedKind == "Event" && !listIDs.contains($0.actionID ?? "\u{0}") }
        eventFields = events.map(Self.withoutActionID)
        originateResponses = events.filter { $0.eventName == "OriginateResponse" }.count
    }

    static func withoutActionID(_ message: AMIMessage) -> [AMIField] {
        message.fields.filter { $0.name.lowercased() != "actionid" }
    }
}

/// One client run against a replayed recording.
struct ReplayRun: Sendable {
    var banner: String?
    var events: [AMIMessage]
    var responses: [AMIResponse]
    var sentActions: [String: AMIAction]
    var disconnectReasons: [AMIError]

    var eventFields: [[AMIField]] { events.map(RecordedSession.withoutActionID) }

    static func run(_ capture: AMICapture, chunking: CaptureReplay.Chunking) async throws -> ReplayRun {
        let expected = try RecordedSession(capture)
        let replay = CaptureReplay(capture, chunking: chunking)
        return try await FakeAMIServer.withServer(behavior: replay.behavior) { server in
            // Generous: twenty byte-per-write replays share two cores with the rest of the suite.
            try await withDeadline(.seconds(600)) {
                try await drive(expected, port: server.port)
            }
        }
    }

    private static func drive(_ expected: RecordedSession, port: Int) async throws -> ReplayRun {
        let events = AMIEventStream()
        let client = AMIClient(
            configuration: .init(
                name: "replay",
                host: "127.0.0.1",
                port: port,
                // No keepalive Pings during a replay: the fake answers them only between recorded
                // writes, and a loaded machine must not turn that into a ping timeout.
                session: .init(
                    username: expected.username,
                    secret: expected.secret ?? "s3cret-AMI",
                    authentication: expected.authentication,
                    // One byte per write on a busy machine can take long to log in.
                    loginTimeout: .seconds(600),
                    keepaliveInterval: .seconds(3600),
                    pingTimeout: .seconds(600)
                ),
                reconnect: .init(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(100), loginRejectedDelay: .seconds(30)),
                defaultActionTimeout: .seconds(300)
            ),
            events: events
        )
        return try await withThrowingTaskGroup(of: ReplayRun?.self) { group in
            group.addTask {
                try await client.run()
                return nil
            }
            group.addTask {
                var run = ReplayRun(banner: nil, events: [], responses: [], sentActions: [:], disconnectReasons: [])
                var pendingResponses: [EventLoopFuture<AMIResponse>] = []
                for await element in events {
                    switch element {
                    case .loggedIn(_, let banner):
                        guard run.banner == nil else { continue }
                        run.banner = banner
                        // Re-enact the recording client: all its actions, in order, at once.
                        for (_, action) in expected.clientActions {
                            let submitted = try client.submit(action)
                            run.sentActions[submitted.actionID] = action
                            pendingResponses.append(submitted.response)
                        }
                    case .disconnected(_, let reason):
                        run.disconnectReasons.append(reason)
                    case .event(let event):
                        // Reconnections replay the recording again; only the first session counts.
                        if run.disconnectReasons.isEmpty { run.events.append(event.message) }
                    }
                    // Only the first session counts (a reconnect replays the recording again), so
                    // stop as soon as it is over, or has given every event the recording holds.
                    // Whatever it delivered by then is compared with the recording by the test.
                    if !run.disconnectReasons.isEmpty {
                        if run.banner == nil, expected.loginAccepted {
                            // Say why the first session never logged in, for the failure report.
                            Issue.record("the first session ended before logging in: \(run.disconnectReasons)")
                        }
                        break
                    }
                    if !expected.endsWithClose, run.banner != nil, run.events.count >= expected.eventFields.count { break }
                }
                for response in pendingResponses {
                    run.responses.append(try await response.get())
                }
                if !expected.loginAccepted, run.disconnectReasons.isEmpty, case .disconnected(let reason) = client.status {
                    run.disconnectReasons.append(reason)
                }
                return run
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let run = result { return run }
            }
            throw CaptureError("the client stopped before the replay finished")
        }
    }
}

extension AMIMessage {
    /// The oracle's own reading of a message's kind (its first key), independent of the client's.
    var recordedKind: String? { fields.first?.name }
}
