import Crypto

/// The actions the bridge sends, spelled the way Asterisk expects them.
extension AMIAction {
    public static func login(username: String, secret: String) -> AMIAction {
        AMIAction("Login", [("Username", username), ("Secret", secret)])
    }

    /// Asks for an MD5 challenge so the secret never crosses the wire.
    public static let challenge = AMIAction("Challenge", [("AuthType", "MD5")])

    /// Logs in with `Key = md5(challenge + secret)`.
    public static func md5Login(username: String, secret: String, challenge: String) -> AMIAction {
        let digest = Insecure.MD5.hash(data: Array((challenge + secret).utf8))
        let key = digest.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
        return AMIAction("Login", [("AuthType", "MD5"), ("Username", username), ("Key", key)])
    }

    public static let ping = AMIAction("Ping")
    public static let logoff = AMIAction("Logoff")
    public static let coreShowChannels = AMIAction("CoreShowChannels")

    /// `Events` with a mask such as `system,call,user,cdr,dialplan`, or `off`.
    public static func events(mask: String) -> AMIAction {
        AMIAction("Events", [("EventMask", mask)])
    }

    /// Adds a server-side event filter (Asterisk 13+), e.g. `Event: Hangup`.
    public static func filter(add expression: String) -> AMIAction {
        AMIAction("Filter", [("Operation", "Add"), ("Filter", expression)])
    }

    /// A CLI command; the output comes back as ``AMIMessage/outputLines``.
    public static func command(_ command: String) -> AMIAction {
        AMIAction("Command", [("Command", command)])
    }

    public static func hangup(channel: String, cause: Int? = nil) -> AMIAction {
        var fields = [("Channel", channel)]
        if let cause { fields.append(("Cause", String(cause))) }
        return AMIAction("Hangup", fields)
    }

    /// An asynchronous `Originate` of `channel` into `context,exten,priority`. `variables` become one
    /// `Variable: name=value` line each, in the given order.
    public static func originate(
        channel: String,
        context: String,
        exten: String,
        priority: Int = 1,
        timeout: Duration? = nil,
        callerID: String? = nil,
        variables: [(String, String)] = []
    ) -> AMIAction {
        var fields = [("Channel", channel), ("Context", context), ("Exten", exten), ("Priority", String(priority)), ("Async", "true")]
        if let timeout { fields.append(("Timeout", String(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))) }
        if let callerID { fields.append(("CallerID", callerID)) }
        for (name, value) in variables { fields.append(("Variable", "\(name)=\(value)")) }
        return AMIAction("Originate", fields)
    }
}
