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
}
