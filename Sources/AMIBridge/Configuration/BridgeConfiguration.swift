import AMIProtocol
import EventMapper
import Logging
import MariaDB
import ViciDial

/// Everything `amibridge run` is configured with, read once at start (see
/// `Config/amibridge.example.yaml` for every key and its default).
struct BridgeConfiguration: Sendable {
    var amiServers: [AMIClient.Configuration]
    /// ViciDial's database; nil runs without the join (webhooks carry the call's own fields).
    var vicidialDatabase: MariaDBConnection.Configuration?
    var enrichment: CallEnrichmentQueue.Configuration
    var dispositions: DispositionQueue.Configuration
    /// `vicidial.answer_wait_ms`: how long `call_answered` waits at most for agent and lead.
    var answers = CallAnswerQueue.Configuration()
    /// Events waiting for the tracker before the overflow policy applies.
    var eventBufferCapacity: Int
    var logLevel: Logger.Level
    var logFormat: LogFormat
    /// `log.mask_phone_numbers`: phone numbers in log metadata keep their last 4 digits only.
    /// Default false.
    var maskPhoneNumbers = false

    enum LogFormat: String, Sendable {
        case json
        case text
    }
}

/// A configuration problem, reported as one line naming the key.
struct ConfigurationError: Error, CustomStringConvertible {
    var key: String
    var problem: String
    var description: String { "configuration error: \(key): \(problem)" }
}
