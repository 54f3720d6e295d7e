import CRMSink
import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// The bridge under test: a release `amibridge run` in its own process, configured for one AMI
/// server (the storm generator) and one webhook endpoint (the storm's receiver), no ViciDial
/// database, its state in a temporary directory.
///
/// Its JSON log is read as it comes and not kept (a soak logs three lines per call): only the
/// lines that matter to the benchmark are looked at (API port, AMI logins, warnings, and the
/// event buffer's "event buffer full").
final class StormDaemon: Sendable {
    struct Configuration: Sendable {
        var binary: String
        var amiPort: Int
        var webhookPort: Int
        var logLevel = "info"
        /// What the AMI client does when its event buffer is full (`reconnect` is the default).
        var overflow = "reconnect"
        /// The `nats:` section (the event log), off when nil.
        var nats: NATS?
    }

    /// The daemon's `nats:` section: publish every event to `stream` on these servers.
    struct NATS: Sendable {
        var urls: [String]
        var stream: String
        var subjectPrefix = "amibridge"
        var replicas = 1
        var publishWindow = 1
        var publishTimeoutMilliseconds = 1000
    }

    /// What the daemon's log said so far.
    struct LogSummary: Sendable {
        var lines = 0
        var apiPort: Int?
        var logins = 0
        var bufferFull = 0
        /// The largest `dropped_total` the event buffer logged (it logs the first drop and every 1,000th).
        var droppedTotal = 0
        /// Lines at warning or above, by level.
        var byLevel: [String: Int] = [:]
        /// The first lines at warning or above, to show what went wrong.
        var firstProblems: [String] = []
    }

    let process: Process
    let directory: String
    private let summary = NIOLockedValueBox(LogSummary())

    var pid: Int32 { process.processIdentifier }
    var log: LogSummary { summary.withLockedValue { $0 } }

    private init(process: Process, directory: String) {
        self.process = process
        self.directory = directory
    }

    static func launch(_ configuration: Configuration) throws -> StormDaemon {
        let directory = NSTemporaryDirectory() + "amibridge-storm-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        let configPath = directory + "/amibridge.yaml"
        try Self.yaml(configuration, stateDirectory: directory + "/state").write(toFile: configPath, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: configuration.binary)
        process.arguments = ["run", "--config", configPath]
        var environment = ProcessInfo.processInfo.environment
        environment["AMI_SECRET"] = "storm"
        environment["WEBHOOKS_STORM_SECRET"] = "storm-secret"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let daemon = StormDaemon(process: process, directory: directory)
        daemon.readLog(output.fileHandleForReading)
        return daemon
    }

    static func yaml(_ configuration: Configuration, stateDirectory: String) -> String {
        """
        ami:
          name: storm
          host: 127.0.0.1
          port: \(configuration.amiPort)
          username: storm
          auth: plain
          overflow: \(configuration.overflow)
        state_dir: \(stateDirectory)
        webhooks:
          endpoints: [storm]
          storm:
            url: http://127.0.0.1:\(configuration.webhookPort)/hook
        api:
          listen: 127.0.0.1:0
        log:
          level: \(configuration.logLevel)
          format: json

        """ + (configuration.nats.map(natsYAML) ?? "")
    }

    static func natsYAML(_ nats: NATS) -> String {
        """
        nats:
          urls: [\(nats.urls.joined(separator: ", "))]
          stream: \(nats.stream)
          subject_prefix: \(nats.subjectPrefix)
          replicas: \(nats.replicas)
          publish_window: \(nats.publishWindow)
          publish_timeout_ms: \(nats.publishTimeoutMilliseconds)
          reconnect_wait_ms: 200

        """
    }

    /// Reads the log with read(2) into one buffer and looks at every whole line in it under one
    /// lock: this thread shares the 2 cores with the daemon, and a `Data` per read plus a lock and
    /// exclusivity checks per line cost the benchmark a tenth of its CPU.
    private func readLog(_ handle: FileHandle) {
        let thread = Thread { [self] in
            let descriptor = handle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            var used = 0
            while true {
                if used == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) } // a very long line
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + used, $0.count - used) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                used += count
                let consumed = buffer.withUnsafeBytes { bytes in
                    summary.withLockedValue { Self.noteLines(UnsafeRawBufferPointer(rebasing: bytes[..<used]), in: &$0) }
                }
                buffer.withUnsafeMutableBytes { _ = memmove($0.baseAddress!, $0.baseAddress! + consumed, used - consumed) }
                used -= consumed
            }
        }
        thread.start()
    }

    /// Notes every whole line in `bytes`; returns how many bytes they took.
    private static func noteLines(_ bytes: UnsafeRawBufferPointer, in summary: inout LogSummary) -> Int {
        var start = 0
        while start < bytes.count, let newline = memchr(bytes.baseAddress! + start, Int32(UInt8(ascii: "\n")), bytes.count - start) {
            let end = bytes.baseAddress!.distance(to: UnsafeRawPointer(newline))
            Self.note(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), in: &summary)
            start = end + 1
        }
        return start
    }

    /// Looks at one log line's bytes. Cheap on the two info lines every call logs: String searches
    /// (through Foundation) once cost a third of the benchmark's CPU. A line becomes a String
    /// only when it matters.
    private static func note(_ line: UnsafeRawBufferPointer, in summary: inout LogSummary) {
        summary.lines += 1
        if line.contains("event buffer full") {
            summary.bufferFull += 1
            if let dropped = line.number(after: "\"dropped_total\":\"") {
                summary.droppedTotal = max(summary.droppedTotal, dropped)
            }
        }
        if line.contains("\"AMI logged in\"") { summary.logins += 1 }
        if summary.apiPort == nil, line.contains("\"HTTP API listening\"") {
            summary.apiPort = line.number(after: "\"port\":\"")
        }
        for (level, marker) in problemLevels where line.contains(marker) {
            summary.byLevel[level, default: 0] += 1
            if summary.firstProblems.count < 10 {
                summary.firstProblems.append(String(decoding: line.prefix(400), as: UTF8.self))
            }
        }
    }

    private static let problemLevels: [(String, StaticString)] = [
        ("warning", "\"level\":\"warning\""), ("error", "\"level\":\"error\""), ("critical", "\"level\":\"critical\""),
    ]

    /// The API's port, once the daemon has logged it.
    func apiPort(timeout: Duration) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let port = log.apiPort { return port }
            guard process.isRunning else { throw StormError("the daemon exited (status \(process.terminationStatus)) before its API listened") }
            guard ContinuousClock.now < deadline else { throw StormError("the daemon's API did not listen within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Resident memory from /proc/PID/status (VmRSS), in bytes.
    func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 * 1024 }
    }

    /// CPU time (user + system) the daemon has used so far, in seconds.
    func cpuSeconds() -> Double? { processCPUSeconds("/proc/\(pid)/stat") }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`; removes its directory.
    func stop(grace: Duration = .seconds(10)) async {
        if process.isRunning {
            kill(pid, SIGTERM)
            let deadline = ContinuousClock.now + grace
            while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { kill(pid, SIGKILL) }
        }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Kills the daemon at once, from a signal handler's queue or a watchdog.
    func killNow() {
        if process.isRunning { kill(pid, SIGKILL) }
    }
}

/// User + system CPU seconds of a process, from its /proc/PID/stat (fields 14 and 15, in clock ticks).
func processCPUSeconds(_ statPath: String = "/proc/self/stat") -> Double? {
    guard let stat = try? String(contentsOfFile: statPath, encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
    // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Prometheus text from the daemon's `/metrics`, read over loopback with the bridge's own libcurl client.
struct StormMetrics: Sendable {
    var samples: [(name: String, labels: String, value: Double)]

    static func scrape(port: Int) -> StormMetrics? {
        guard let client = try? CurlHTTPClient(),
              let response = try? client.perform(CurlHTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/metrics", timeout: .seconds(10), maximumResponseBodySize: 64 << 20)),
              response.status == 200
        else { return nil }
        var samples: [(String, String, Double)] = []
        for line in String(decoding: response.body, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            if let brace = series.firstIndex(of: "{") {
                samples.append((String(series[..<brace]), String(series[brace...]), value))
            } else {
                samples.append((String(series), "", value))
            }
        }
        return StormMetrics(samples: samples)
    }

    /// The sum of every series of `name`.
    func total(_ name: String) -> Double {
        samples.filter { $0.name == name }.reduce(0) { $0 + $1.value }
    }

    /// Series whose name says something was dropped or overflowed, with a value above zero.
    var drops: [String] {
        samples.filter { ($0.name.contains("drop") || $0.name.contains("overflow")) && $0.value > 0 }
            .map { "\($0.name)\($0.labels) \(Int($0.value))" }
    }
}

struct StormError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
