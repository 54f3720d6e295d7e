/// The one rule for telling an agent's disposition from a status ViciDial writes while a call is
/// live, queued or waiting in the disposition screen. Both the disposition watcher and the
/// `call_complete` body (which carries a disposition the agent already set) use it.
public enum ViciDialFinalStatus {
    /// Statuses that are not an agent's disposition: INCALL and QUEUE (live), DISPO (the agent is
    /// in the disposition screen), NEW (a lead never called), and an empty status.
    public static let nonFinalStatuses: Set<String> = ["INCALL", "QUEUE", "DISPO", "NEW", ""]

    /// Whether `status` is a final disposition under `nonFinal` (compared ignoring case and
    /// surrounding spaces, which CHAR-like reads and hand-edited rows may carry).
    public static func isFinal(_ status: String?, nonFinal: Set<String> = nonFinalStatuses) -> Bool {
        guard let status else { return false }
        return !nonFinal.contains(normalized(status))
    }

    static func normalized(_ status: String) -> String {
        var text = status[...]
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text.uppercased()
    }
}
