extension MariaDBConnection {
    /// Runs `body` between `START TRANSACTION` and `COMMIT` on this session, and `ROLLBACK` when it
    /// throws, so several statements land together or not at all.
    ///
    /// Inside, a lost connection fails the transaction instead of being repaired: a reconnect
    /// would give a new session, where the remaining statements would run and commit on their own
    /// while the server rolls back the first ones.
    ///
    /// Only transactional engines (InnoDB) honour it. On MyISAM, which stock ViciDial uses for
    /// nearly every table, the three statements are accepted and change nothing: each statement's
    /// rows stay as soon as it has run, and a rollback keeps them.
    public func transaction<Result>(_ body: (MariaDBConnection) throws -> Result) throws -> Result {
        precondition(!isInTransaction, "transactions do not nest")
        _ = try execute("START TRANSACTION")
        isInTransaction = true
        defer { isInTransaction = false }
        do {
            let result = try body(self)
            _ = try execute("COMMIT")
            return result
        } catch {
            // Best effort: on a lost connection the server has already rolled back.
            _ = try? execute("ROLLBACK")
            throw error
        }
    }
}
