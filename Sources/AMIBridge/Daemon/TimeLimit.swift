/// `body`'s result, or nil once `limit` has passed (`body` is then cancelled and left behind):
/// for probes of dependencies that may hang (`/readyz`, `amibridge check`).
func result<Result: Sendable>(within limit: Duration, _ body: @escaping @Sendable () async -> Result) async -> Result? {
    await withTaskGroup(of: Result?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        return await group.next() ?? nil
    }
}
