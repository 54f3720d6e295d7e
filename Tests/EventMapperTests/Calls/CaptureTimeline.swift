import AMIProtocol
import AMITestSupport
import EventMapper
import NIOCore

/// A recording as the tracker would have received it: each message with the time its last byte
/// arrived (recorded `t` plus the epoch of the call, so times look like real ones), and the
/// Originates the recording client sent, with their send times.
struct CaptureTimeline {
    enum Item {
        case message(AMIMessage, at: Double)
        case originate(actionID: String, callID: String, channel: String, at: Double)
    }

    var items: [Item] = []
    var lastTime: Double = 0

    init(_ folder: String, _ name: String) throws {
        let capture = try AMICapture.load(folder, name)
        var decoder = AMIFrameDecoder()
        var buffer = ByteBuffer()
        let base = 1_795_615_000.0
        for entry in capture.entries {
            let time = base + entry.t
            lastTime = time
            switch entry.dir {
            case .recv:
                buffer.writeString(entry.data)
                while let frame = try decoder.decode(buffer: &buffer) {
                    if case .message(let message) = frame { items.append(.message(message, at: time)) }
                }
            case .send:
                var sent = ByteBuffer(string: entry.data)
                var sendDecoder = AMIFrameDecoder()
                guard case .message(let action)? = try sendDecoder.decode(buffer: &sent), action["Action"] == "Originate" else { continue }
                let actionID = action.actionID ?? ""
                // The click-to-call id: the CRM_CALL_ID variable, else the ActionID.
                let variable = action.values(for: "Variable").first { $0.hasPrefix("CRM_CALL_ID=") }
                let callID = variable.map { String($0.dropFirst("CRM_CALL_ID=".count)) } ?? actionID
                items.append(.originate(actionID: actionID, callID: callID, channel: action["Channel"] ?? "", at: time))
            case .close:
                break
            }
        }
    }

    /// Runs the whole recording through a tracker, then lets time pass so nothing stays pending.
    func run(server: String = "dialer1", registerOriginates: Bool = true) -> [CallUpdate] {
        var tracker = CallTracker(configuration: .init(server: server))
        var updates: [CallUpdate] = []
        for item in items {
            switch item {
            case .message(let message, let time):
                updates += tracker.receive(message, at: time)
            case .originate(let actionID, let callID, let channel, let time):
                if registerOriginates { tracker.originateSent(actionID: actionID, callID: callID, channel: channel, at: time) }
            }
        }
        updates += tracker.tick(now: lastTime + 60)
        return updates
    }
}

extension [CallUpdate] {
    var completed: [CallRecord] {
        compactMap { if case .completed(let record) = $0 { return record } else { return nil } }
    }

    var answered: [CallRecord] {
        compactMap { if case .answered(let record) = $0 { return record } else { return nil } }
    }

    var started: [CallRecord] {
        compactMap { if case .started(let record) = $0 { return record } else { return nil } }
    }
}
