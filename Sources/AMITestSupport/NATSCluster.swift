import Foundation

/// deploy/nats-cluster's nodes (or any set of nats-server configurations that name each other by
/// `127.0.0.1:<port>`) as one JetStream cluster on loopback, with every port moved to a free one,
/// so a drill runs beside other tests (and beside a try-out cluster on the shipped ports).
///
/// Each node is a ``NATSServerProcess``: its store is a temporary directory, `stop()` is a SIGKILL
/// and `start()` brings it back on the same ports with the same store.
public final class NATSCluster: Sendable {
    public let nodes: [NATSServerProcess]
    /// Where the rewritten configurations live (removed with the cluster).
    public let directory: String

    /// - Parameter configFiles: the nodes' configurations, e.g. deploy/nats-cluster/n1.conf…n3.conf.
    ///   Every `127.0.0.1:<port>` in them (client, route and monitoring ports) is given a free port,
    ///   the same one in every file, so the routes still name the right nodes.
    public init(configFiles: [String]) throws {
        let texts = try configFiles.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let pattern = try NSRegularExpression(pattern: #"127\.0\.0\.1:(\d+)"#)
        var ports: [Int] = []
        for text in texts {
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text), let port = Int(text[range]), !ports.contains(port) { ports.append(port) }
            }
        }
        // Held at once so each is distinct, then released for the servers to bind.
        let free = try ports.map { _ in try ClosedPort() }
        let mapping = Dictionary(uniqueKeysWithValues: zip(ports, free.map(\.port)))
        directory = NSTemporaryDirectory() + "amibridge-nats-cluster-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var nodes: [NATSServerProcess] = []
        for (index, text) in texts.enumerated() {
            var rewritten = text
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
                guard let range = Range(match.range(at: 1), in: text), let port = Int(text[range]), let new = mapping[port] else { continue }
                rewritten.replaceSubrange(Range(match.range(at: 1), in: rewritten)!, with: String(new))
            }
            let name = URL(fileURLWithPath: configFiles[index]).deletingPathExtension().lastPathComponent
            let path = "\(directory)/\(name).conf"
            try rewritten.write(toFile: path, atomically: true, encoding: .utf8)
            let listen = Self.clientPort(in: rewritten)
            nodes.append(NATSServerProcess(name: name, port: listen, storeDirectory: "\(directory)/\(name)", configFile: path))
        }
        withExtendedLifetime(free) {}
        self.nodes = nodes
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The clients' seed URLs, one per node.
    public var urls: [String] { nodes.map(\.url) }

    public func node(named name: String) -> NATSServerProcess? { nodes.first { $0.name == name } }

    /// Starts every node at once (each waits for the others' routes) and returns when all accept
    /// clients. JetStream elects its meta leader a moment later: retry the first stream request.
    public func start(timeout: Duration = .seconds(30)) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { try await node.start(timeout: timeout) } }
            try await group.waitForAll()
        }
    }

    /// SIGKILLs every node still running.
    public func stop() async {
        for node in nodes { await node.stop() }
    }

    /// SIGKILLs every node without waiting (a watchdog on its way out).
    public func killNow() {
        for node in nodes { node.killNow() }
    }

    /// The port of the `listen: 127.0.0.1:<port>` line.
    static func clientPort(in config: String) -> Int? {
        for line in config.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("listen:"), !line.hasPrefix(" "), !line.hasPrefix("\t"), let colon = trimmed.lastIndex(of: ":") {
                return Int(trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
        }
        return nil
    }
}
