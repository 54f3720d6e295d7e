import Foundation

/// `application/x-www-form-urlencoded`, both ways: what PHP scripts send and what PHP's
/// `parse_str` reads back.
enum FormEncoding {
    /// `a=1&b=x+y%21` → [("a", "1"), ("b", "x y!")]. Malformed escapes are kept as written,
    /// as PHP does; a key without `=` has an empty value.
    static func decode(_ text: Substring) -> [(name: String, value: String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (unescape(parts[0]), parts.count > 1 ? unescape(parts[1]) : "")
        }
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters, so `&`, `=`, `+`, `%`
    /// and any UTF-8 come back from `parse_str` exactly.
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    static func unescape(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
