import AMIProtocol
import AMITestSupport
import Foundation
import NIOConcurrencyHelpers
import NIOCore

extension DialerSimulator {
    /// What every connection's session shares: the settings, the state and the feed.
    struct SessionContext: Sendable {
        let configuration: Configuration
        let state: NIOLockedValueBox<SimulatorState>
        let feed: EventFeed

        /// One connection: the banner, a login (plain or MD5 `Challenge`) checked against the
        /// configured user, then the shared event stream written from a second task while this
        /// one answers the client's actions. A refused login is answered, then the connection
        /// closes, as Asterisk does.
        var behavior: FakeAMIServer.Behavior {
            { session in
                try await session.write("Asterisk Call Manager/9.0.0\r\n")
                guard try await login(&session) else { return }
                let (id, stream) = feed.subscribe()
                defer { feed.unsubscribe(id) }
                let writer = session.outboundWriter
                // `Events: off` stops this client's stream until `Events` turns it on again.
                let eventsOn = NIOLockedValueBox(true)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await chunk in stream where eventsOn.withLockedValue({ $0 }) { try await writer.write(chunk) }
                        // Cut off as too slow (or the simulator stops): the client reconnects.
                        writer.finish()
                    }
                    defer { group.cancelAll() }
                    while let action = try await session.nextAction() {
                        if action["Action"]?.lowercased() == "events" {
                            eventsOn.withLockedValue { $0 = action["EventMask"]?.lowercased() != "off" }
                        }
                        guard try await answer(action, session: session) else { return }
                    }
                }
            }
        }

        /// Until a login succeeds (true) or fails or the client leaves (false).
        private func login(_ session: inout FakeAMISession) async throws -> Bool {
            var challenge: String?
            while let action = try await session.nextAction() {
                let id = action.actionID.map { "ActionID: \($0)\r\n" } ?? ""
                switch action["Action"]?.lowercased() {
                case "challenge":
                    let value = String(UInt32.random(in: 100_000_000...999_999_999))
                    challenge = value
                    try await session.write("Response: Success\r\n\(id)Challenge: \(value)\r\n\r\n")
                case "login":
                    guard accepts(action, challenge: challenge) else {
                        try await session.write("Response: Error\r\n\(id)Message: Authentication failed\r\n\r\n")
                        try await session.closeAfterClientHasRead()
                        return false
                    }
                    let uptime = Int(Date().timeIntervalSince1970) % 100_000
                    try await session.write("Response: Success\r\n\(id)Message: Authentication accepted\r\n\r\n"
                        + "Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: \(uptime)\r\nLastReload: \(uptime)\r\nStatus: Fully Booted\r\n\r\n")
                    return true
                case "ping", "logoff":
                    guard try await session.answerGenerically(action) else { return false }
                default:
                    try await session.write("Response: Error\r\n\(id)Message: Permission denied\r\n\r\n")
                }
            }
            return false
        }

        private func accepts(_ action: AMIMessage, challenge: String?) -> Bool {
            guard action["Username"] == configuration.username else { return false }
            if action["AuthType"]?.lowercased() == "md5" {
                guard let challenge, let key = action["Key"] else { return false }
                let expected = AMIAction.md5Login(username: configuration.username, secret: configuration.secret, challenge: challenge)
                return expected.fields.first { $0.name == "Key" }?.value == key.lowercased()
            }
            return action["Secret"] == configuration.secret
        }

        /// Answers one action after the login; false when the session should end (Logoff).
        private func answer(_ action: AMIMessage, session: FakeAMISession) async throws -> Bool {
            let now = Date().timeIntervalSince1970
            switch action["Action"]?.lowercased() {
            case "originate":
                try await session.write(state.withLockedValue { $0.originate(action, at: now) })
            case "coreshowchannels":
                try await session.write(state.withLockedValue { $0.coreShowChannels(action, at: now) })
            case "hangup":
                try await session.write(state.withLockedValue { $0.hangup(action, at: now) })
            case "command":
                try await session.write(state.withLockedValue { $0.command(action) })
            default:
                return try await session.answerGenerically(action)
            }
            return true
        }
    }
}
