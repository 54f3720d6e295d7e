@testable import AMIBridge
import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

/// `log.mask_phone_numbers`: what is masked, what is left alone, and that both log formats get it.
@Suite("Phone number masking in logs")
struct PhoneNumberMaskingTests {
    @Test("all digits but the last 4 are masked; the shape stays", arguments: [
        ("18005551234", "*******1234"),
        ("+1 (800) 555-1234", "+* (***) ***-1234"),
        ("5551234", "***1234"),
        ("1234", "1234"),
        ("", ""),
    ])
    func digits(value: String, masked: String) {
        #expect(PhoneNumberMasking.maskDigits(value) == masked)
    }

    @Test("in channels and dial strings only runs of 7+ digits are masked, not the -0000002a sequence", arguments: [
        ("SIP/carrier/18005551234", "SIP/carrier/*******1234"),
        ("Local/918005551234@default-00000001;1", "Local/********1234@default-00000001;1"),
        ("PJSIP/1001-0000002a", "PJSIP/1001-0000002a"),
        ("SIP/18005551234-00000001", "SIP/*******1234-00000001"),
    ])
    func channels(value: String, masked: String) {
        #expect(PhoneNumberMasking.maskDigitRuns(value) == masked)
    }

    @Test("number keys are recognised however they are spelled; ids and counts are not")
    func keys() {
        for key in ["phone_number", "phone", "caller_id", "callerid", "CallerIDNum", "caller-id-num", "number", "dialed", "dialed_number", "connected_line_num", "exten"] {
            #expect(PhoneNumberMasking.isNumberKey(key), "\(key)")
        }
        for key in ["lead_id", "uniqueid", "linkedid", "call_id", "count", "server", "event", "status", "port", "talk_seconds", "event_id"] {
            #expect(!PhoneNumberMasking.isNumberKey(key), "\(key)")
            #expect(!PhoneNumberMasking.isChannelKey(key), "\(key)")
        }
        #expect(PhoneNumberMasking.isChannelKey("channel"))
        #expect(PhoneNumberMasking.isChannelKey("dial_string"))
    }

    @Test("JSON lines: event and logger metadata masked, other fields untouched")
    func json() throws {
        let output = NIOLockedValueBox<[String]>([])
        var logger = Logger(label: "amibridge.calls") { label in
            PhoneMaskingLogHandler(wrapped: JSONLogHandler(label: label, level: .info) { line in output.withLockedValue { $0.append(line) } })
        }
        logger[metadataKey: "caller_id"] = "3125550000"
        logger.info("call complete", metadata: [
            "phone_number": "18005551234", "linkedid": "1795615870.0", "lead_id": "1234567",
            "channel": "SIP/carrier-0000002a", "dial_string": "carrier/18005551234",
            "details": .dictionary(["dialed": "18005551234"]),
        ])
        let line = try #require(output.withLockedValue { $0.first })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["phone_number"] as? String == "*******1234")
        #expect(object["caller_id"] as? String == "******0000")
        #expect(object["dial_string"] as? String == "carrier/*******1234")
        #expect(object["channel"] as? String == "SIP/carrier-0000002a")
        #expect(object["linkedid"] as? String == "1795615870.0")
        #expect(object["lead_id"] as? String == "1234567")
        #expect((object["details"] as? String)?.contains("*******1234") == true)
        #expect(!line.contains("8005551234"))
    }

    @Test("the text format goes through the same wrapper")
    func text() {
        let recorder = RecordingLogHandler()
        let logger = Logger(label: "amibridge.calls") { _ in PhoneMaskingLogHandler(wrapped: recorder) }
        logger.info("call answered", metadata: ["phone_number": "18005551234", "server": "dialer1"])
        #expect(recorder.events.first?["phone_number"] == "*******1234")
        #expect(recorder.events.first?["server"] == "dialer1")
    }

    @Test("log.mask_phone_numbers is off by default; LOG_MASK_PHONE_NUMBERS turns it on; a bad value names the key")
    func configuration() async throws {
        let path = DaemonProcessTests.exampleConfig.path
        #expect(try await BridgeConfiguration.load(path: path, environment: ["AMI_SECRET": "x"]).maskPhoneNumbers == false)
        #expect(try await BridgeConfiguration.load(path: path, environment: ["AMI_SECRET": "x", "LOG_MASK_PHONE_NUMBERS": "true"]).maskPhoneNumbers)
        await #expect(throws: ConfigurationError.self) {
            try await BridgeConfiguration.load(path: path, environment: ["AMI_SECRET": "x", "LOG_MASK_PHONE_NUMBERS": "sometimes"])
        }
    }
}

/// Keeps the metadata of every event it is handed, as strings.
final class RecordingLogHandler: LogHandler, @unchecked Sendable {
    private let recorded = NIOLockedValueBox<[[String: String]]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var events: [[String: String]] { recorded.withLockedValue { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        recorded.withLockedValue { $0.append(merged.mapValues(\.description)) }
    }
}
