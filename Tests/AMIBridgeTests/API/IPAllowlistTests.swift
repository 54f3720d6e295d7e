@testable import AMIBridge
import Hummingbird
import HummingbirdTesting
import Testing

/// Peers outside `api.ip_allowlist` get 403. Over a real socket (`.live`), since the peer
/// address is what is checked; the test client connects from loopback.
@Suite("API IP allowlist")
struct IPAllowlistTests {
    @Test("a loopback client outside the allowlist is 403; inside it passes", arguments: [
        (["10.0.0.0/8"], 403),
        (["10.0.0.0/8", "127.0.0.0/8", "::1"], 200),
        ([], 200),
    ])
    func allowlist(entries: [String], expected: Int) async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let ranges = entries.compactMap(IPAddressRange.init)
        #expect(ranges.count == entries.count)
        try await environment.application { $0.ipAllowlist = ranges }.test(.live) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status.code == expected)
                if expected == 403 {
                    #expect(APIErrorBody.decode(response.body)?.error.message.contains("address") == true)
                }
            }
        }
    }

    @Test("CIDR matching, IPv4-mapped IPv6 included")
    func matching() throws {
        let block = try #require(IPAddressRange("192.168.10.0/23"))
        #expect(block.contains("192.168.11.254"))
        #expect(!block.contains("192.168.12.1"))
        #expect(block.contains("::ffff:192.168.10.7"))
        let v6 = try #require(IPAddressRange("2001:db8::/32"))
        #expect(v6.contains("2001:db8:ffff::1"))
        #expect(!v6.contains("2001:db9::1"))
        #expect(!v6.contains("192.168.10.7"))
        #expect(IPAddressRange("10.0.0.0/33") == nil)
        #expect(IPAddressRange("not-an-ip") == nil)
    }
}
