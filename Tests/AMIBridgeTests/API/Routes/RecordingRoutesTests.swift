@testable import AMIBridge
import Foundation
import MariaDB
import Testing
import ViciDial
import ViciDialTestSupport

/// `GET /v1/recordings` and `GET /v1/calls/{uniqueid}/recording` through the router, over the private MariaDB.
@Suite struct RecordingRoutesTests {
    /// A customer stored the ViciDial way (phone_code 1 + 10 digits) with two recordings an hour apart.
    func seed(_ test: ViciDialAPITest) async throws -> (national: String, lead: Int64, older: Int64, newer: Int64, epoch: Int, uniqueid: String) {
        let national = String(TestDatabase.uniquePhoneNumber().dropFirst())
        let lead = try await test.driver.insertLead(phone: national)
        let t = ViciDialTestDriver.epoch()
        let older = try await test.driver.insertRecording(vicidialID: ViciDialTestDriver.uniqueid(t), leadID: lead, filename: "old-\(lead)", at: t, seconds: 30)
        let uniqueid = ViciDialTestDriver.uniqueid(t + 3600)
        let newer = try await test.driver.insertRecording(vicidialID: uniqueid, leadID: lead, filename: "new-\(lead)", at: t + 3600, seconds: 61,
                                                          user: "agent9", location: "https://vici.example.com/RECORDINGS/new-\(lead).mp3")
        return (national, lead, older, newer, t, uniqueid)
    }

    static func isoUTC(_ epoch: Int) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }

    @Test func aCustomersRecordingsNewestFirstWithEveryField() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let seeded = try await seed(test)
        let n = seeded.national
        // `+1 (800) 555-1234`, percent-encoded, finds the lead stored as 1 + 8005551234.
        let answer = try await test.request("/v1/recordings?phone_number=%2B1%20(\(n.prefix(3)))%20\(n.dropFirst(3).prefix(3))-\(n.suffix(4))")
        #expect(answer.status == .ok)
        let recordings = try #require(answer.json["recordings"] as? [[String: Any]])
        #expect(recordings.map { $0["recording_id"] as? Int } == [Int(seeded.newer), Int(seeded.older)])
        let newest = try #require(recordings.first)
        #expect(newest["filename"] as? String == "new-\(seeded.lead)")
        #expect(newest["location"] as? String == "https://vici.example.com/RECORDINGS/new-\(seeded.lead).mp3")
        #expect(newest["length_in_sec"] as? Int == 61)
        #expect(newest["lead_id"] as? Int == Int(seeded.lead))
        #expect(newest["user"] as? String == "agent9")
        #expect(newest["uniqueid"] as? String == seeded.uniqueid)
        let times = try await test.driver.root.query("SELECT FROM_UNIXTIME(?) AS s, FROM_UNIXTIME(?) AS e",
                                                     [.int(Int64(seeded.epoch + 3600)), .int(Int64(seeded.epoch + 3661))]).first
        #expect(newest["start_time"] as? String == (try times?.string("s")))
        #expect(newest["end_time"] as? String == (try times?.string("e")))
        // The call's number and date next to the file (no vicidial_log row here: the recording's start).
        #expect(newest["phone_number"] as? String == n)
        #expect(newest["call_date"] as? String == (try times?.string("s")))
        #expect(Set(newest.keys) == ["recording_id", "filename", "location", "start_time", "end_time", "length_in_sec", "lead_id", "user", "uniqueid",
                                     "phone_number", "call_date"])
    }

    @Test func sinceAndLimitNarrowTheList() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let seeded = try await seed(test)
        func ids(_ query: String) async throws -> [Int?] {
            let answer = try await test.request("/v1/recordings?phone_number=\(seeded.national)&\(query)")
            #expect(answer.status == .ok)
            return (answer.json["recordings"] as? [[String: Any]] ?? []).map { $0["recording_id"] as? Int }
        }
        #expect(try await ids("limit=1") == [Int(seeded.newer)])
        #expect(try await ids("since=\(Self.isoUTC(seeded.epoch + 1))") == [Int(seeded.newer)])
        #expect(try await ids("since=\(Self.isoUTC(seeded.epoch))") == [Int(seeded.newer), Int(seeded.older)])
        #expect(try await ids("since=2000-01-01") == [Int(seeded.newer), Int(seeded.older)])
        #expect(try await ids("since=2999-01-01").isEmpty)
    }

    @Test("bad parameters are 400", arguments: [
        "", "phone_number=800555ABCD", "phone_number=8005551234%0D%0A", "phone_number=123", "phone_number=8005551234;1",
        "phone_number=8005551234&since=2026-13-01", "phone_number=8005551234&since=yesterday",
        "phone_number=8005551234&since=2026-01-15T25:00", "phone_number=8005551234&limit=0",
        "phone_number=8005551234&limit=1001", "phone_number=8005551234&limit=ten",
    ])
    func badParameters(query: String) async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let answer = try await test.request("/v1/recordings?\(query)")
        #expect(answer.status == .badRequest)
        #expect(answer.errorCode == "invalid_request")
    }

    @Test func aCallsRecordingByUniqueid() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let seeded = try await seed(test)
        let answer = try await test.request("/v1/calls/\(seeded.uniqueid)/recording")
        #expect(answer.status == .ok)
        #expect(answer.json["recording_id"] as? Int == Int(seeded.newer))
        #expect(answer.json["filename"] as? String == "new-\(seeded.lead)")
        #expect(answer.json["uniqueid"] as? String == seeded.uniqueid)
    }

    @Test func aCallWithoutRecordingIs404AndABadUniqueidIs400() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let missing = try await test.request("/v1/calls/\(ViciDialTestDriver.uniqueid(ViciDialTestDriver.epoch()))/recording")
        #expect(missing.status == .notFound)
        #expect(missing.errorCode == "not_found")
        for bad in ["a%20b", "x%27%3B", String(repeating: "1", count: 41)] {
            let answer = try await test.request("/v1/calls/\(bad)/recording")
            #expect(answer.status == .badRequest, "\(bad)")
            #expect(answer.errorCode == "invalid_request")
        }
    }
}
