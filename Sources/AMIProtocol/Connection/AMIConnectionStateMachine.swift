/// The life of one AMI connection, as decisions without I/O.
///
/// Inputs are methods named for what happened (`connected()`, `frameReceived(_:)`,
/// `keepaliveTimerFired()`); each returns the ``Action`` the caller performs. Timers are asked for
/// by ``Action/armTimer(_:_:)`` and come back as inputs, so tests drive time by hand.
///
/// connect → banner → (`Challenge` →) `Login` → logged in (then `Events`/`Filter` setup) → closed.
/// Setup answers are not waited for: events flow from the login on, and a refused `Filter`
/// (no `system` write permission) is only a warning.
/// While logged in: actions are matched to responses by ActionID (with their event lists), events
/// are handed out, and an idle connection is probed with `Ping`: no traffic for a keepalive
/// interval sends a `Ping`, and no answer within the ping timeout closes the connection.
/// While the client does not read (its consumer is behind: ``readingPaused()``), silence is ours,
/// not the peer's: no `Ping` is sent and an outstanding one is not timed until reading resumes.
public struct AMIConnectionStateMachine: Sendable {
    public struct Configuration: Sendable, Hashable {
        public enum Authentication: String, Sendable, Hashable {
            /// `Login` with `Secret` in clear text (fine on loopback or inside TLS).
            case plain
            /// `Challenge`, then `Login` with `Key = md5(challenge + secret)`.
            case md5
        }

        public var username: String
        public var secret: String
        public var authentication: Authentication
        /// `Events` mask sent after login, or nil to keep the user's manager.conf default.
        public var eventMask: String?
        /// Server-side filters (`Filter` action, Asterisk 13+). A rejected filter is logged, not fatal.
        public var filters: [String]
        /// Banner, login and setup must finish within this time.
        public var loginTimeout: Duration
        /// A connection silent for this long is probed with `Ping`.
        public var keepaliveInterval: Duration
        /// A `Ping` unanswered for this long closes the connection.
        public var pingTimeout: Duration

        public init(
            username: String,
            secret: String,
            authentication: Authentication = .plain,
            eventMask: String? = "system,call,user,cdr,dialplan",
            filters: [String] = [],
            loginTimeout: Duration = .seconds(10),
            keepaliveInterval: Duration = .seconds(10),
            pingTimeout: Duration = .seconds(5)
        ) {
            self.username = username
            self.secret = secret
            self.authentication = authentication
            self.eventMask = eventMask
            self.filters = filters
            self.loginTimeout = loginTimeout
            self.keepaliveInterval = keepaliveInterval
            self.pingTimeout = pingTimeout
        }
    }

    public enum TimerID: Sendable, Hashable {
        case login
        case keepalive
        case pong
        case action(String)
        case logoff
    }

    public enum Action: Sendable, Equatable {
        case none
        /// Write this action with this ActionID.
        case write(AMIAction, actionID: String)
        case armTimer(TimerID, Duration)
        case cancelTimer(TimerID)
        /// Login and setup finished; the banner tells the Asterisk dialect.
        case reportLoggedIn(banner: String)
        case deliverEvent(AMIMessage)
        case succeedRequest(actionID: String, AMIResponse)
        case failRequest(actionID: String, AMIError)
        /// Close the socket; the reason is reported when ``connectionClosed()`` comes back.
        case closeConnection
        /// The connection is gone: report why and stop.
        case reportClosed(AMIError)
        /// Something worth a warning in the log that does not end the connection.
        case logWarning(String)
        case many([Action])
    }

    enum State: Sendable {
        case connecting
        case awaitingBanner
        case awaitingChallenge(banner: String, actionID: String)
        case awaitingLogin(banner: String, actionID: String)
        case loggedIn
        case loggingOff
        case closing
        case closed
    }

    struct PendingRequest: Sendable {
        var response: AMIMessage?
        var listItems: [AMIMessage] = []
    }

    private(set) var state: State = .connecting
    private let configuration: Configuration
    private var pendingRequests: [String: PendingRequest] = [:]
    private var outstandingPing: String?
    private var trafficSinceKeepalive = false
    /// The client stopped reading the socket (backpressure from the event consumer).
    private var readPaused = false
    /// Why the connection is ending; the first reason wins.
    private var closeReason: AMIError?
    private var internalActionCounter = 0
    /// `Events`/`Filter` actions sent after login whose answers are still due.
    private var setupActionIDs: Set<String> = []
    /// Event lists whose action timed out: their late items are dropped, not taken for events.
    /// At most ``drainingListLimit``: a peer that starts lists nobody asked for and never ends them
    /// must not grow it for the life of the connection.
    private(set) var drainingLists: Set<String> = []
    /// Lists being drained at once. Past it an arbitrary one is forgotten: its remaining items, if
    /// any ever come, are then delivered as events, which the tracker ignores (list items are not
    /// call events).
    static let drainingListLimit = 64

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    // MARK: - Inputs

    /// The TCP connection is up: wait for the banner, within the login deadline.
    public mutating func connected() -> Action {
        guard case .connecting = state else { return .none }
        state = .awaitingBanner
        return .armTimer(.login, configuration.loginTimeout)
    }

    public mutating func frameReceived(_ frame: AMIFrame) -> Action {
        trafficSinceKeepalive = true
        switch (state, frame) {
        case (.awaitingBanner, .banner(let banner)):
            return startLogin(banner: banner)
        case (.awaitingBanner, .message):
            return close(AMIError(.unexpectedBanner, "the peer did not greet with 'Asterisk Call Manager/...': not an AMI port?"))
        case (.connecting, _), (.closed, _):
            return .none
        case (_, .banner(let banner)):
            return close(AMIError(.unexpectedBanner, "a second banner arrived mid-session", detail: banner))
        case (_, .message(let message)):
            return messageReceived(message)
        }
    }

    /// An action from a consumer, already encoded; `actionID` is unique on this connection.
    public mutating func requestSent(_ action: AMIAction, actionID: String, timeout: Duration) -> Action {
        switch state {
        case .loggedIn:
            guard pendingRequests[actionID] == nil else {
                return .failRequest(actionID: actionID, AMIError(.invalidAction, "an action with this ActionID is still waiting for its answer", detail: actionID))
            }
            pendingRequests[actionID] = PendingRequest()
            return .many([.write(action, actionID: actionID), .armTimer(.action(actionID), timeout)])
        case .connecting, .awaitingBanner, .awaitingChallenge, .awaitingLogin, .loggingOff, .closing, .closed:
            return .failRequest(actionID: actionID, AMIError(.notConnected, "the AMI connection is not logged in"))
        }
    }

    public mutating func timerFired(_ timer: TimerID) -> Action {
        switch timer {
        case .login:
            switch state {
            case .awaitingBanner:
                return close(AMIError(.bannerTimeout, "no AMI banner within \(configuration.loginTimeout)"))
            case .awaitingChallenge, .awaitingLogin:
                return close(AMIError(.loginTimeout, "login not answered within \(configuration.loginTimeout)"))
            case .connecting, .loggedIn, .loggingOff, .closing, .closed:
                return .none
            }
        case .keepalive:
            return keepaliveTimerFired()
        case .pong:
            guard outstandingPing != nil, !readPaused, case .loggedIn = state else { return .none }
            return close(AMIError(.pingTimeout, "Ping not answered within \(configuration.pingTimeout)"))
        case .action(let actionID):
            guard let pending = pendingRequests.removeValue(forKey: actionID) else { return .none }
            if pending.response != nil { startDraining(actionID) }
            return .failRequest(actionID: actionID, AMIError(.actionTimeout, "no answer to the action in time", detail: actionID))
        case .logoff:
            guard case .loggingOff = state else { return .none }
            return close(AMIError(.clientShutdown, "logged off"))
        }
    }

    /// The client stopped reading the socket because its event consumer is behind. Unread
    /// bytes are not a dead peer: the `Ping` deadline stops until ``readingResumed()``.
    public mutating func readingPaused() -> Action {
        guard !readPaused else { return .none }
        readPaused = true
        return outstandingPing == nil ? .none : .cancelTimer(.pong)
    }

    /// Reading again: an outstanding `Ping` gets a full timeout from now, and the next keepalive
    /// interval starts as if traffic had just arrived (it is about to).
    public mutating func readingResumed() -> Action {
        guard readPaused else { return .none }
        readPaused = false
        trafficSinceKeepalive = true
        guard outstandingPing != nil, case .loggedIn = state else { return .none }
        return .armTimer(.pong, configuration.pingTimeout)
    }

    /// A decoding or socket error: close with it as the reason.
    public mutating func errorCaught(_ error: AMIError) -> Action {
        close(error)
    }

    /// The client is stopping: say `Logoff` if logged in, then close.
    public mutating func logoffRequested(timeout: Duration) -> Action {
        switch state {
        case .loggedIn:
            state = .loggingOff
            closeReason = AMIError(.clientShutdown, "logged off")
            return .many([.write(.logoff, actionID: nextInternalID("logoff")), .armTimer(.logoff, timeout)])
        case .connecting, .awaitingBanner, .awaitingChallenge, .awaitingLogin:
            return close(AMIError(.clientShutdown, "shutting down"))
        case .loggingOff, .closing, .closed:
            return .none
        }
    }

    /// The socket is closed (by either side). Everything still waiting fails with the reason.
    public mutating func connectionClosed() -> Action {
        if case .closed = state { return .none }
        state = .closed
        let reason = closeReason ?? AMIError(.connectionClosed, "the peer closed the connection")
        var actions: [Action] = [.cancelTimer(.login), .cancelTimer(.keepalive), .cancelTimer(.pong), .cancelTimer(.logoff)]
        for actionID in pendingRequests.keys.sorted() {
            actions.append(.cancelTimer(.action(actionID)))
            actions.append(.failRequest(actionID: actionID, AMIError(.connectionClosed, "the connection closed before the answer", detail: reason.description)))
        }
        pendingRequests.removeAll()
        drainingLists.removeAll()
        actions.append(.reportClosed(reason))
        return .many(actions)
    }

    // MARK: - Login

    private mutating func startLogin(banner: String) -> Action {
        switch configuration.authentication {
        case .plain:
            let actionID = nextInternalID("login")
            state = .awaitingLogin(banner: banner, actionID: actionID)
            return .write(.login(username: configuration.username, secret: configuration.secret), actionID: actionID)
        case .md5:
            let actionID = nextInternalID("challenge")
            state = .awaitingChallenge(banner: banner, actionID: actionID)
            return .write(.challenge, actionID: actionID)
        }
    }

    private mutating func messageReceived(_ message: AMIMessage) -> Action {
        // Only the login steps need the ActionID here; a logged-in session's events (nearly every
        // message) are routed without making it.
        var actionID: String? {
            switch state {
            case .awaitingChallenge, .awaitingLogin: message.actionID
            default: nil
            }
        }
        switch state {
        case .awaitingChallenge(let banner, let expected) where actionID == expected && message.isResponse:
            guard message.isSuccessResponse, let challenge = message["Challenge"] else {
                return close(AMIError(.loginRejected, "Asterisk refused the MD5 challenge", detail: message["Message"]))
            }
            let loginID = nextInternalID("login")
            state = .awaitingLogin(banner: banner, actionID: loginID)
            return .write(.md5Login(username: configuration.username, secret: configuration.secret, challenge: challenge), actionID: loginID)

        case .awaitingLogin(let banner, let expected) where actionID == expected && message.isResponse:
            guard message.isSuccessResponse else {
                return close(AMIError(.loginRejected, "Asterisk rejected the login for user '\(configuration.username)'", detail: message["Message"]))
            }
            return loginAccepted(banner: banner)

        case .loggedIn, .loggingOff, .awaitingLogin, .awaitingChallenge:
            return routeSessionMessage(message)

        case .connecting, .awaitingBanner, .closing, .closed:
            return .none
        }
    }

    private mutating func loginAccepted(banner: String) -> Action {
        state = .loggedIn
        trafficSinceKeepalive = false
        var actions: [Action] = [.cancelTimer(.login)]
        var setup: [AMIAction] = configuration.eventMask.map { [.events(mask: $0)] } ?? []
        setup += configuration.filters.map { .filter(add: $0) }
        for action in setup {
            let actionID = nextInternalID(action.name.lowercased())
            setupActionIDs.insert(actionID)
            actions.append(.write(action, actionID: actionID))
        }
        actions += [.armTimer(.keepalive, configuration.keepaliveInterval), .reportLoggedIn(banner: banner)]
        return .many(actions)
    }

    private mutating func startDraining(_ actionID: String) {
        if drainingLists.count >= Self.drainingListLimit, !drainingLists.contains(actionID) {
            drainingLists.removeFirst()
        }
        drainingLists.insert(actionID)
    }

    // MARK: - Logged in

    /// Responses and list items go to their pending action; everything else is an event.
    private mutating func routeSessionMessage(_ message: AMIMessage) -> Action {
        // An event can only belong to an action while one waits for its list: otherwise its
        // ActionID (if any) changes nothing, and most events have none, so it is not looked for.
        let mayBelongToAction = message.isResponse || !pendingRequests.isEmpty || !drainingLists.isEmpty
        if mayBelongToAction, let actionID = message.actionID {
            if actionID == outstandingPing, message.isResponse {
                outstandingPing = nil
                return .cancelTimer(.pong)
            }
            if message.isResponse, setupActionIDs.remove(actionID) != nil {
                return message.isSuccessResponse ? .none
                    : .logWarning("AMI setup action refused (\(message["Message"] ?? "no message")); continuing without it")
            }
            if case .loggingOff = state, message.response?.caseInsensitiveEquals("Goodbye") == true {
                return close(AMIError(.clientShutdown, "logged off"))
            }
            if drainingLists.contains(actionID), !message.isResponse {
                if let marker = message.eventList, marker.caseInsensitiveEquals("Complete") || marker.caseInsensitiveEquals("Cancelled") {
                    drainingLists.remove(actionID)
                }
                return .none
            }
            if pendingRequests[actionID] == nil, message.isResponse, message.eventList?.caseInsensitiveEquals("start") == true {
                // The list of an action that already timed out: its items are not live events.
                startDraining(actionID)
                return .none
            }
            if var pending = pendingRequests[actionID] {
                if message.isResponse, pending.response == nil {
                    if message.isSuccessResponse, message.eventList?.caseInsensitiveEquals("start") == true {
                        pending.response = message
                        pendingRequests[actionID] = pending
                        return .none
                    }
                    return completeRequest(actionID, AMIResponse(message: message))
                }
                if let response = pending.response, !message.isResponse {
                    if let marker = message.eventList, marker.caseInsensitiveEquals("Complete") || marker.caseInsensitiveEquals("Cancelled") {
                        return completeRequest(actionID, AMIResponse(message: response, listItems: pending.listItems, listComplete: message))
                    }
                    pending.listItems.append(message)
                    pendingRequests[actionID] = pending
                    return .none
                }
            }
        }
        guard !message.isResponse else {
            // A response nobody waits for (its action timed out): nothing to do with it.
            return .none
        }
        if message.isEvent(named: "Shutdown") {
            return .many([.deliverEvent(message), close(AMIError(.serverShutdown, "Asterisk is shutting down", detail: message["Restart"].map { "restart: \($0)" }))])
        }
        return .deliverEvent(message)
    }

    private mutating func completeRequest(_ actionID: String, _ response: AMIResponse) -> Action {
        pendingRequests[actionID] = nil
        return .many([.cancelTimer(.action(actionID)), .succeedRequest(actionID: actionID, response)])
    }

    private mutating func keepaliveTimerFired() -> Action {
        guard case .loggedIn = state else { return .none }
        let rearm = Action.armTimer(.keepalive, configuration.keepaliveInterval)
        if trafficSinceKeepalive || outstandingPing != nil || readPaused {
            trafficSinceKeepalive = false
            return rearm
        }
        let pingID = nextInternalID("ping")
        outstandingPing = pingID
        return .many([.write(.ping, actionID: pingID), .armTimer(.pong, configuration.pingTimeout), rearm])
    }

    private mutating func close(_ reason: AMIError) -> Action {
        switch state {
        case .closing, .closed:
            return .none
        case .connecting, .awaitingBanner, .awaitingChallenge, .awaitingLogin, .loggedIn, .loggingOff:
            closeReason = closeReason ?? reason
            state = .closing
            return .closeConnection
        }
    }

    private mutating func nextInternalID(_ kind: String) -> String {
        internalActionCounter += 1
        return "amibridge-\(kind)-\(internalActionCounter)"
    }
}
