import AMIProtocol

extension AMIFrame {
    /// The longest line and the bytes of this frame as the decoder read them, at the least (a
    /// field's `: ` may have been one byte, an empty name had no colon): what its limits bound.
    public var minimumSize: (longestLine: Int, total: Int) {
        switch self {
        case .banner(let banner):
            return (banner.utf8.count, banner.utf8.count)
        case .message(let message):
            // Asterisk 11's `Response: Follows` text lines had no name: the decoder calls them `Output`.
            let follows = message.response?.lowercased() == "follows"
            var longest = 0
            var total = 0
            for field in message.fields {
                let named = !field.name.isEmpty && !(follows && field.name == "Output")
                let line = field.value.utf8.count + (named ? field.name.utf8.count + 1 : 0)
                longest = max(longest, line)
                total += line + 1
            }
            return (longest, total)
        }
    }
}
