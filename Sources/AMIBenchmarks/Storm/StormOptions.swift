import Foundation

/// The flags of `amibridge-bench storm [soak | feed] ...`, with their defaults.
struct StormOptions: Sendable {
    /// Calls of the burst phase (sent as fast as the daemon reads).
    var burstCalls = 20_000
    /// The latency phase's (and the soak's) calls per second, and for how long.
    var rate = 500.0
    var seconds = 20.0
    /// How long each paced call lasts from its first event to its last.
    var callSeconds = 2.0
    /// `burst`, `latency` or `all`.
    var phase = "all"
    var daemon: String = StormOptions.defaultDaemon
    var json = false
    /// Burst: print a sample every 250 ms (to stderr) of how far each stage has come.
    var timeline = false
    var logLevel = "info"
    var overflow = "reconnect"
    /// The whole run stops (and kills the daemon) after this long, whatever happens.
    var timeout: Double?
    /// A phase gives up waiting for webhooks after this long without a new one.
    var stallSeconds = 20.0
    /// Soak: RSS sampling period.
    var sampleSeconds = 10.0
    /// Feed: clients to wait for before streaming.
    var clients = 1

    static let usage = """
        usage: amibridge-bench storm [--phase burst|latency|all] [--calls N] [--rate CALLS_PER_S] [--seconds S]
                                     [--daemon PATH] [--json] [--timeline] [--log-level LEVEL] [--overflow reconnect|dropNewest] [--timeout S]
               amibridge-bench storm soak [--minutes M] [--rate CALLS_PER_S] [--sample-seconds S] [--daemon PATH] [--json]
               amibridge-bench storm feed [--calls N] [--clients K] [--timeout S]
        The daemon defaults to $AMIBRIDGE_BIN, else `amibridge` beside this binary.
        """

    /// `$AMIBRIDGE_BIN`, else the `amibridge` built beside this benchmark.
    static var defaultDaemon: String {
        if let path = ProcessInfo.processInfo.environment["AMIBRIDGE_BIN"], !path.isEmpty { return path }
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent("amibridge").path
    }

    init(arguments: [String], soak: Bool = false) throws {
        if soak {
            seconds = 600
            rate = 2000
        }
        var remaining = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = remaining.popFirst() else { throw StormError("\(flag) needs a value\n\(Self.usage)") }
            return next
        }
        func number(_ flag: String) throws -> Double {
            let text = try value(flag)
            guard let number = Double(text), number >= 0 else { throw StormError("\(flag): '\(text)' is not a number\n\(Self.usage)") }
            return number
        }
        while let flag = remaining.popFirst() {
            switch flag {
            case "--calls": burstCalls = Int(try number(flag))
            case "--rate": rate = try number(flag)
            case "--seconds": seconds = try number(flag)
            case "--minutes": seconds = try number(flag) * 60
            case "--call-seconds": callSeconds = try number(flag)
            case "--phase":
                phase = try value(flag)
                guard ["burst", "latency", "all"].contains(phase) else { throw StormError("--phase: burst, latency or all\n\(Self.usage)") }
            case "--daemon": daemon = try value(flag)
            case "--json": json = true
            case "--timeline": timeline = true
            case "--log-level": logLevel = try value(flag)
            case "--overflow": overflow = try value(flag)
            case "--timeout": timeout = try number(flag)
            case "--stall-seconds": stallSeconds = try number(flag)
            case "--sample-seconds": sampleSeconds = max(1, try number(flag))
            case "--clients": clients = max(1, Int(try number(flag)))
            default: throw StormError("unknown flag '\(flag)'\n\(Self.usage)")
            }
        }
    }
}
