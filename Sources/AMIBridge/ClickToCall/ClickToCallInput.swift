import EventMapper
import ViciDial

/// The values a click-to-call request may carry, checked before anything reaches Asterisk. The AMI
/// encoder refuses CR/LF anyway; these rules are stricter so a bad request is a clear 400 naming
/// its field, never an odd Originate. Customer numbers use EventMapper's ``PhoneNumber``.

/// A dialable channel such as `SIP/1001`, `PJSIP/agent7` or `Local/1001@agents`.
enum AgentChannel {
    static func isValid(_ text: String) -> Bool {
        guard let slash = text.firstIndex(of: "/"), text.utf8.count <= 80 else { return false }
        let technology = text[..<slash]
        let resource = text[text.index(after: slash)...]
        return !technology.isEmpty && technology.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
            && !resource.isEmpty && resource.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.@/".contains($0)) }
    }

    /// A bare extension (`1001`), put into the configured template.
    static func isExtension(_ text: String) -> Bool {
        (1...40).contains(text.utf8.count) && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
    }
}

/// Names that go into AMI headers, SQL lookups and paths unquoted: dialplan contexts, ViciDial
/// users and campaigns, Asterisk uniqueids. The one check for all of them.
enum AMIName {
    /// 1 to `maximumLength` ASCII letters, digits and `punctuation`.
    static func isValid(_ text: String, maximumLength: Int = 80, punctuation: String = "_-.@") -> Bool {
        (1...maximumLength).contains(text.utf8.count) && text.unicodeScalars.allSatisfy { scalar in
            ("0"..."9").contains(scalar) || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                || punctuation.unicodeScalars.contains(scalar)
        }
    }

    /// A ViciDial user name (`vicidial_users.user` is VARCHAR(20)).
    static func isViciDialUser(_ text: String) -> Bool { isValid(text, maximumLength: 20) }

    /// A channel variable name: a letter or `_` first, then letters, digits, `_`.
    static func isVariableName(_ text: String) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter || first == "_", text.utf8.count <= 64 else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}

/// The number and name parts of `CallerID: "name" <number>`.
enum CallerIDNumber {
    static func isValid(_ text: String) -> Bool {
        let digits = text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        return (2...20).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// No quotes, angle brackets or control characters: they would change what Asterisk parses.
    static func isValidName(_ text: String) -> Bool {
        text.utf8.count <= 40 && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F && !"\"<>\\".unicodeScalars.contains($0) }
    }
}
