/// A customer phone number as the API accepts it (SPEC, "HTTP API"): digits with an optional
/// leading `+`, 7 to 15 digits once spaces, dashes, dots and parentheses are taken out, and
/// nothing else.
///
/// Anything else (letters, `*`, `#`, `,` pauses, CR/LF) is refused rather than cleaned up: such a
/// number would reach a dial string or a SQL `WHERE` meaning something the caller did not write.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// The digits alone, without `+` or separators.
    public let digits: String
    /// The caller wrote a leading `+`: the digits begin with the country code (E.164).
    public let hasCountryCode: Bool

    public static let digitCount = 7...15

    /// nil when `text` breaks the rule above.
    public init?(_ text: String) {
        var digits = ""
        var plus = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "0"..."9": digits.unicodeScalars.append(scalar)
            case " ", "-", ".", "(", ")": continue
            // Only before the first digit, and only once.
            case "+" where digits.isEmpty && !plus: plus = true
            default: return nil
            }
        }
        guard Self.digitCount.contains(digits.utf8.count) else { return nil }
        self.digits = digits
        self.hasCountryCode = plus
    }

    public var description: String { (hasCountryCode ? "+" : "") + digits }

    /// Why a text is not a ``PhoneNumber``, for error messages.
    public static let rule = "digits with an optional leading +, 7-15 digits after removing spaces, dashes, dots and parentheses"
}
