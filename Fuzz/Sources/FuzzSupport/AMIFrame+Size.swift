import AMIProtocol

extension AMIFrame {
    /// The longest line and the bytes of this frame as the decoder read them, at the least (a
    /// field's `: ` may have been one byte, an empty name had no colon): what its limits bound.
    public var minimumSize: (longestLine: Int, total: Int) {
        switch self {
        case .banner(let banner):
            return (Self.minimumByteCount(banner), Self.minimumByteCount(banner))
        case .message(let message):
            // Asterisk 11's `Response: Follows` text lines had no name: the decoder calls them `Output`.
            let follows = message.response?.lowercased() == "follows"
            var longest = 0
            var total = 0
            for field in message.fields {
                let named = !field.name.isEmpty && !(follows && field.name == "Output")
                let line = Self.minimumByteCount(field.value) + (named ? Self.minimumByteCount(field.name) + 1 : 0)
                longest = max(longest, line)
                total += line + 1
            }
            return (longest, total)
        }
    }

    /// The fewest bytes `text` was decoded from: a byte that was not UTF-8 became U+FFFD, which
    /// takes three.
    static func minimumByteCount(_ text: String) -> Int {
        text.utf8.count - 2 * text.unicodeScalars.count { $0 == "\u{FFFD}" }
    }
}
