import AMITestSupport
import Foundation

/// The storm benchmark's three parts in one place: the fake Asterisk streaming calls, the
/// release daemon under test, and the CRM receiving its webhooks; plus what every phase needs
/// (waiting for webhooks with a stall limit, reading the daemon's counters).
struct StormRig: Sendable {
    let source: CallStormSource
    let server: CallStormServer
    let receiver: StormReceiver
    let daemon: StormDaemon
    let apiPort: Int
    let options: StormOptions

    /// Starts the generator and the receiver, then the daemon, and waits for its AMI login and
    /// its reconciliation (`CoreShowChannels`), so the stream starts on a settled bridge.
    static func start(options: StormOptions, calls: Int, nats: StormDaemon.NATS? = nil) async throws -> StormRig {
        guard FileManager.default.isExecutableFile(atPath: options.daemon) else {
            throw StormError("no daemon at \(options.daemon): build it (swift build -c release) or pass --daemon / AMIBRIDGE_BIN")
        }
        let source = try CallStormSource()
        let receiver = try await StormReceiver.start(calls: calls)
        let server = try await CallStormServer.start(source: source)
        let daemon = try StormDaemon.launch(.init(
            binary: options.daemon, amiPort: server.port, webhookPort: receiver.port,
            logLevel: options.logLevel, overflow: options.overflow, nats: nats
        ))
        StormWatchdog.shared.daemon = daemon
        do {
            let apiPort = try await daemon.apiPort(timeout: .seconds(60))
            try await server.waitForClients(1, at: .reconciled, timeout: .seconds(60))
            return StormRig(source: source, server: server, receiver: receiver, daemon: daemon, apiPort: apiPort, options: options)
        } catch {
            for line in daemon.log.firstProblems { FileHandle.standardError.write(Data("daemon: \(line)\n".utf8)) }
            await daemon.stop(grace: .seconds(2))
            throw error
        }
    }

    func stop() async {
        await daemon.stop()
        await server.close()
        await receiver.stop()
    }

    func metrics() async -> StormMetrics? {
        let port = apiPort
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: StormMetrics.scrape(port: port)) }
        }
    }

    /// Waits until every call in `calls` has had its `call_complete` and then for the rest of
    /// their webhooks (at most 2 s more); stops early after `stallSeconds` without a new webhook.
    /// Returns false if it stopped early.
    func waitForWebhooks(_ calls: Range<Int>) async -> Bool {
        let tally = receiver.tally
        var lastRequests = -1
        var lastProgress = ContinuousClock.now
        while tally.completedCount(calls) < calls.count {
            let requests = tally.snapshot.requests
            if requests != lastRequests {
                lastRequests = requests
                lastProgress = .now
            } else if ContinuousClock.now - lastProgress > .seconds(options.stallSeconds) || !daemon.process.isRunning {
                return false
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        let settle = ContinuousClock.now + .seconds(2)
        while tally.completeness(calls).missingWebhooks > 0, ContinuousClock.now < settle {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }
}

/// Stops the daemon when the benchmark is interrupted or runs past its time: a benchmark must
/// never leave a daemon behind.
final class StormWatchdog: @unchecked Sendable {
    static let shared = StormWatchdog()
    /// Set once, before any signal or deadline can fire.
    var daemon: StormDaemon?
    /// More to kill at once on the way out (a second daemon, nats-server nodes); set like `daemon`.
    var alsoKill: [@Sendable () -> Void] = []
    private var sources: [any DispatchSourceSignal] = []

    /// Kills the daemon and exits on SIGINT/SIGTERM, and after `seconds`.
    func arm(seconds: Double) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in
                FileHandle.standardError.write(Data("storm: interrupted; stopping the daemon\n".utf8))
                daemon?.killNow()
                alsoKill.forEach { $0() }
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
            FileHandle.standardError.write(Data("storm: still running after \(Int(seconds)) s; stopping the daemon\n".utf8))
            daemon?.killNow()
            alsoKill.forEach { $0() }
            exit(3)
        }
    }
}
