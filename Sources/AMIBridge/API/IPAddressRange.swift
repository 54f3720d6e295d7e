import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One entry of the IP allowlist: a CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or one address.
///
/// IPv4-mapped IPv6 peers (`::ffff:10.1.2.3`, what a dual-stack socket reports) match IPv4 blocks,
/// so listening on `::` does not silently lock IPv4 clients out.
struct IPAddressRange: Sendable, Equatable, CustomStringConvertible {
    var network: [UInt8]
    var prefixLength: Int

    var description: String { "\(IPAddressRange.format(network))/\(prefixLength)" }

    /// nil when `text` is not an address or CIDR block, or the prefix is too long for its family.
    init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = Self.parse(String(parts[0])) else { return nil }
        let maximum = address.count * 8
        let length: Int
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...maximum).contains(parsed) else { return nil }
            length = parsed
        } else {
            length = maximum
        }
        self.network = Self.mask(address, prefixLength: length)
        self.prefixLength = length
    }

    func contains(_ address: String) -> Bool {
        guard let bytes = Self.parse(address), bytes.count == network.count else { return false }
        return Self.mask(bytes, prefixLength: prefixLength) == network
    }

    /// 4 bytes for IPv4 (also for IPv4-mapped IPv6), 16 for IPv6, nil for anything else.
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        // Zone ids (`fe80::1%eth0`) are not part of the address.
        let withoutZone = text.split(separator: "%", maxSplits: 1).first.map(String.init) ?? text
        guard inet_pton(AF_INET6, withoutZone, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return Array(bytes[12..<16])
        }
        return bytes
    }

    private static func mask(_ bytes: [UInt8], prefixLength: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = min(max(prefixLength - index * 8, 0), 8)
            return bits == 0 ? 0 : byte & ~UInt8(0xff >> bits)
        }
    }

    private static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
    }
}
