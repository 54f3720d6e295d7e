extension FakeAMIServer {
    /// A well-behaved Asterisk 20: greets, answers every action, and hands the session to
    /// `afterLogin` once the client's post-login `Events` setup has been answered; then goes on
    /// answering until the client leaves.
    public static func asterisk(afterLogin: @escaping @Sendable (inout FakeAMISession) async throws -> Void = { _ in }) -> Behavior {
        { session in
            try await session.write("Asterisk Call Manager/9.0.0\r\n")
            while let action = try await session.nextAction() {
                guard try await session.answerGenerically(action) else { return }
                if action["Action"] == "Events" {
                    try await afterLogin(&session)
                    break
                }
            }
            while let action = try await session.nextAction() {
                guard try await session.answerGenerically(action) else { return }
            }
        }
    }

    /// An Asterisk that refuses every plain `Login` the way Asterisk 20 does (`Response: Error`,
    /// `Message: Authentication failed`), then ends the session.
    public static let rejectingLogin: Behavior = { session in
        try await session.write("Asterisk Call Manager/9.0.0\r\n")
        while let action = try await session.nextAction() {
            if action["Action"] == "Login" {
                let id = action.actionID.map { "ActionID: \($0)\r\n" } ?? ""
                try await session.write("Response: Error\r\n\(id)Message: Authentication failed\r\n\r\n")
                return
            }
            guard try await session.answerGenerically(action) else { return }
        }
    }
}
