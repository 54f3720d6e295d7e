@testable import AMIBridge
import Foundation
import Testing

/// JSON values as lead fields: numbers keep the text a person would write.
@Suite struct JSONValueTests {
    @Test("values become field text", arguments: [
        (#""8005551234""#, "8005551234"), ("18005551234", "18005551234"), ("18005551234.0", "18005551234"),
        ("-5.5", "-5.5"), ("null", ""), (#""""#, ""),
    ])
    func fieldText(json: String, text: String) throws {
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)).fieldText == text)
    }

    @Test("booleans, arrays and objects are no field", arguments: ["true", "[1]", #"{"a":1}"#])
    func noFieldText(json: String) throws {
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)).fieldText == nil)
    }
}
