import Crypto
import Foundation

/// An API key as the client holds it: `amib_<id>_<secret>`.
///
/// The id is not secret: it lets the store find the one row to check, so verification is a
/// primary-key lookup plus one constant-time comparison instead of hashing against every key.
/// The secret is 256 random bits, so a plain SHA-256 of it is enough at rest (no salt or slow
/// hash: those defend low-entropy passwords, not random keys).
struct APIKey: Sendable, Equatable {
    static let prefix = "amib"

    var id: String
    var secret: String

    var text: String { "\(Self.prefix)_\(id)_\(secret)" }

    /// A new random key: a 12-hex-digit id and a 64-hex-digit secret.
    static func generate() -> APIKey {
        var generator = SystemRandomNumberGenerator()
        return APIKey(id: Self.hex(count: 6, using: &generator), secret: Self.hex(count: 32, using: &generator))
    }

    /// Parses `amib_<id>_<secret>`; anything else is nil (and so a 401, never a 500).
    init?(text: String) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Self.prefix,
            parts[1].count == 12, parts[2].count == 64,
            parts[1].allSatisfy(\.isHexDigit), parts[2].allSatisfy(\.isHexDigit)
        else { return nil }
        self.init(id: String(parts[1]).lowercased(), secret: String(parts[2]).lowercased())
    }

    init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// What the store keeps instead of the secret.
    var secretHash: [UInt8] { Self.hash(secret: secret) }

    static func hash(secret: String) -> [UInt8] { Array(SHA256.hash(data: Data(secret.utf8))) }

    /// Compares every byte whatever the first difference, so response time says nothing about
    /// how much of a guessed secret was right.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    private static func hex(count: Int, using generator: inout SystemRandomNumberGenerator) -> String {
        (0..<count).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }
}
