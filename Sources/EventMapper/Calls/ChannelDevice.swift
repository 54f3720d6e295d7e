/// The device a channel is on: what an `Originate`'s `Channel:` names, without the sequence
/// number Asterisk appends to each channel it creates there.
///
/// `SIP/1001-0000000a` → `SIP/1001`; `SIP/carrier-answer-0000000d` → `SIP/carrier-answer`;
/// `Local/1001@agents-00000001;1` → `Local/1001@agents`. A name without the suffix is already a
/// device (`SIP/1001`); Local options are not part of it (`Local/1001@agents/n` →
/// `Local/1001@agents`). So an Originate to `SIP/100` never claims `SIP/1001-00000001`.
enum ChannelDevice {
    static func of(_ channel: String) -> Substring {
        var name = channel[...]
        let isLocal = name.hasPrefix("Local/")
        if isLocal, let semicolon = name.lastIndex(of: ";"), name[name.index(after: semicolon)...].allSatisfy(\.isASCIIDigit) {
            name = name[..<semicolon]
        }
        // `-%08x`: Asterisk's channel sequence number.
        if let dash = name.lastIndex(of: "-") {
            let sequence = name.utf8[name.utf8.index(after: dash)...]
            if sequence.count >= 8, sequence.allSatisfy(\.isASCIIHexDigit) { name = name[..<dash] }
        }
        // `Local/exten@context/options`: the options (n, m, b, ...) pick behaviour, not a device.
        if isLocal, let slash = name.dropFirst("Local/".count).firstIndex(of: "/") {
            name = name[..<slash]
        }
        return name
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

private extension UInt8 {
    var isASCIIHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
