import Foundation
import NIOConcurrencyHelpers

/// A real `nats-server` (Debian's package) with JetStream, on 127.0.0.1 and a store directory of
/// its own, for the event-log tests and the HA drill. `stop()` kills it (SIGKILL: a crash, not a
/// shutdown); `start()` again brings it back on the same port with the same store.
public final class NATSServerProcess: Sendable {
    /// `nats-server`'s path: `NATS_SERVER` if set, else the first on PATH or in /usr/sbin.
    public static var executable: String? {
        if let path = ProcessInfo.processInfo.environment["NATS_SERVER"] { return path }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin"]
        return path.map { ($0 as NSString).appendingPathComponent("nats-server") }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static var isInstalled: Bool { executable != nil }

    public let storeDirectory: String
    public let name: String
    /// Extra arguments, given at every start.
    public let extraArguments: [String]
    /// A nats-server configuration to run instead of the command-line setup (deploy/nats-cluster's
    /// nodes): used as is but for its `store_dir`, which becomes ``storeDirectory``. Its `listen`
    /// port must be the `port` given.
    public let configFile: String?
    private let state = NIOLockedValueBox<(process: Process?, port: Int)>((nil, -1))

    /// `port` nil picks a free one at the first start (and keeps it for restarts).
    public init(name: String = "n1", port: Int? = nil, storeDirectory: String? = nil, configFile: String? = nil, extraArguments: [String] = []) {
        self.configFile = configFile
        self.name = name
        self.storeDirectory = storeDirectory ?? NSTemporaryDirectory() + "amibridge-nats-\(name)-\(UUID().uuidString.prefix(8))"
        self.extraArguments = extraArguments
        self.state.withLockedValue { $0.port = port ?? -1 }
    }

    deinit {
        if let process = state.withLockedValue({ $0.process }), process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: storeDirectory)
        try? FileManager.default.removeItem(atPath: storeDirectory + ".conf")
    }

    public var port: Int { state.withLockedValue { $0.port } }
    public var url: String { "nats://127.0.0.1:\(port)" }

    /// Starts the server and returns once it accepts clients (at most `timeout`).
    public func start(timeout: Duration = .seconds(20)) async throws {
        guard let executable = Self.executable else { throw NATSServerError(message: "nats-server is not installed") }
        try FileManager.default.createDirectory(atPath: storeDirectory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        if let configFile {
            let text = try String(contentsOfFile: configFile, encoding: .utf8)
            let copy = storeDirectory + ".conf"
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.trimmingCharacters(in: .whitespaces).hasPrefix("store_dir:") ? "    store_dir: \"\(storeDirectory)\"" : String(line)
            }
            try lines.joined(separator: "\n").write(toFile: copy, atomically: true, encoding: .utf8)
            process.arguments = ["-c", copy] + extraArguments
        } else {
            process.arguments = ["-a", "127.0.0.1", "-p", "\(port)", "-n", name, "-js", "-sd", storeDirectory] + extraArguments
        }
        let output = Pipe()
        process.standardError = output
        process.standardOutput = output
        try process.run()
        state.withLockedValue { $0.process = process }
        let deadline = ContinuousClock.now + timeout
        let ready = NIOLockedValueBox(false)
        var listening: Int?
        let lines = ChildProcess.lines(of: output.fileHandleForReading)
        var iterator = lines.makeAsyncIterator()
        let watchdog = Task {
            try await Task.sleep(until: deadline)
            if !ready.withLockedValue({ $0 }) { kill(process.processIdentifier, SIGKILL) }
        }
        defer { watchdog.cancel() }
        while let line = await iterator.next() {
            if let range = line.range(of: "Listening for client connections on ") {
                listening = Int(line[range.upperBound...].split(separator: ":").last ?? "")
            }
            if line.contains("Server is ready") {
                ready.withLockedValue { $0 = true }
                break
            }
        }
        guard ready.withLockedValue({ $0 }), let listening else {
            throw NATSServerError(message: "nats-server \(name) did not start within \(timeout)")
        }
        state.withLockedValue { $0.port = listening }
        // The lines' reader thread keeps draining the pipe until the server exits.
        _ = iterator
    }

    /// SIGKILL without waiting (a watchdog on its way out).
    public func killNow() {
        if let process = state.withLockedValue({ $0.process }), process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// SIGKILL, then waits for the exit.
    public func stop() async {
        guard let process = state.withLockedValue({ $0.process }) else { return }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        await ChildProcess.waitForExit(process)
        state.withLockedValue { $0.process = nil }
    }
}

public struct NATSServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
