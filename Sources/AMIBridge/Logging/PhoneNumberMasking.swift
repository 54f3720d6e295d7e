import Logging

/// `log.mask_phone_numbers`: phone numbers in log metadata keep only their last 4 digits
/// (`18005551234` → `*******1234`), for sites where logs leave the box or are kept long.
///
/// Which values are phone numbers is decided by the metadata key: keys naming a number
/// (`phone_number`, `caller_id`, `callerid`, `number`, `dialed`, `connected_line_num`, `exten`,
/// ...) have every digit but the last 4 masked; keys naming a channel or dial string
/// (`channel`, `dial_string`, `destination`), which carry a number inside
/// (`SIP/carrier/18005551234`, `Local/918005551234@default-0000002a;1`), have each run of 7 or
/// more digits masked the same way. Log messages are fixed text and carry no numbers.
enum PhoneNumberMasking {
    /// Keys are compared lower-cased without `_`, `-` and `.`: `callerIDNum`, `caller_id_num`
    /// and `caller-id-num` are one key.
    static func isNumberKey(_ key: String) -> Bool {
        let key = normalized(key)
        return ["phone", "callerid", "number", "dialed", "connectedline", "exten", "ani", "dnis", "did"]
            .contains { key == $0 || ($0.count > 3 && key.contains($0)) }
    }

    static func isChannelKey(_ key: String) -> Bool {
        let key = normalized(key)
        return key.contains("channel") || key.contains("dialstring") || key == "destination"
    }

    /// Every digit but the last 4 becomes `*`; other characters stay (`+1 (800) 555-1234` →
    /// `+* (***) ***-1234`), so the shape of the value still shows.
    static func maskDigits(_ value: String) -> String {
        var remaining = value.unicodeScalars.filter(isDigit).count
        var masked = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            if isDigit(scalar) {
                masked.append(remaining > 4 ? "*" : scalar)
                remaining -= 1
            } else {
                masked.append(scalar)
            }
        }
        return String(masked)
    }

    /// Each run of 7 or more digits masked with ``maskDigits(_:)``; shorter runs (trunk names,
    /// extensions) and Asterisk's `-0000002a` channel sequence stay as they are.
    static func maskDigitRuns(_ value: String) -> String {
        var output = ""
        var run = ""
        var previous: Unicode.Scalar?
        var runFollowsDash = false
        func flush() {
            output += run.count >= 7 && !runFollowsDash ? maskDigits(run) : run
            run = ""
        }
        for scalar in value.unicodeScalars {
            if isDigit(scalar) {
                if run.isEmpty { runFollowsDash = previous == "-" }
                run.unicodeScalars.append(scalar)
            } else {
                flush()
                output.unicodeScalars.append(scalar)
            }
            previous = scalar
        }
        flush()
        return output
    }

    static func mask(_ metadata: Logger.Metadata) -> Logger.Metadata {
        var masked = metadata
        for (key, value) in metadata {
            masked[key] = mask(value, key: key)
        }
        return masked
    }

    static func mask(_ value: Logger.MetadataValue, key: String) -> Logger.MetadataValue {
        switch value {
        case .dictionary(let dictionary):
            return .dictionary(mask(dictionary))
        case .array(let values):
            return .array(values.map { mask($0, key: key) })
        case .string, .stringConvertible:
            if isNumberKey(key) { return .string(maskDigits(value.description)) }
            if isChannelKey(key) { return .string(maskDigitRuns(value.description)) }
            return value
        }
    }

    private static func normalized(_ key: String) -> String {
        String(key.lowercased().unicodeScalars.filter { $0 != "_" && $0 != "-" && $0 != "." })
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar)
    }
}

/// Wraps the JSON or text handler when `log.mask_phone_numbers` is on: metadata reaches the
/// wrapped handler already masked, whether it came with the log call or was set on the logger.
struct PhoneMaskingLogHandler: LogHandler {
    var wrapped: any LogHandler

    var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = PhoneNumberMasking.mask(newValue) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue.map { PhoneNumberMasking.mask($0, key: key) } }
    }

    func log(event: LogEvent) {
        var event = event
        event.metadata = event.metadata.map(PhoneNumberMasking.mask)
        wrapped.log(event: event)
    }
}
