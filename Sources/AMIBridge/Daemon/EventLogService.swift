import AMIProtocol
import Logging
import ServiceLifecycle

/// Reads the AMI event stream and logs it: session changes at info, events at debug.
/// Stands where the call tracker (EventMapper) will consume the stream.
struct EventLogService: Service {
    let events: AMIEventStream
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await element in events {
                switch element {
                case .loggedIn(let server, let banner):
                    logger.info("AMI session up", metadata: ["server": "\(server)", "banner": "\(banner)"])
                case .disconnected(let server, let reason):
                    logger.warning("AMI session down", metadata: ["server": "\(server)", "error": "\(reason)"])
                case .event(let event):
                    logger.debug("AMI event", metadata: [
                        "server": "\(event.server)",
                        "event": "\(event.name ?? "?")",
                        "uniqueid": "\(event.message["Uniqueid"] ?? "")",
                        "linkedid": "\(event.message["Linkedid"] ?? "")",
                    ])
                }
            }
        }
    }
}
