@testable import CRMSink
import Foundation
import Testing

/// The outbox stores event ids as text and reads them back with the hand-written parser: it
/// must agree with Foundation both ways and refuse what is not a UUID.
@Suite struct UUIDLowercaseTextTests {
    @Test func textRoundTripsAndMatchesFoundation() {
        for _ in 0..<500 {
            let id = UUID()
            #expect(id.lowercaseText == id.uuidString.lowercased())
            #expect(UUID(lowercaseText: id.lowercaseText) == id)
            #expect(UUID(lowercaseText: id.uuidString) == id, "uppercase, as Foundation writes it")
        }
    }

    @Test(arguments: [
        "", "not a uuid", "6ba7b810-9dad-11d1-80b4-00c04fd430c", "6ba7b810-9dad-11d1-80b4-00c04fd430c8a",
        "6ba7b8109dad-11d1-80b4-00c04fd430c8a", "6ba7b810-9dad-11d1-80b4-00c04fd430cg", "6ba7b810-9dad-11d1-80b4_00c04fd430c8",
        "6ba7b810-9dad-11d1-80b4-00c04fd430é",
    ])
    func refusesWhatIsNotAUUID(text: String) {
        #expect(UUID(lowercaseText: text) == nil)
        #expect(UUID(uuidString: text) == nil, "Foundation refuses it too")
    }
}
