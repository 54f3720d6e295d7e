@testable import EventMapper
@testable import MariaDB
import Testing
@testable import ViciDial
import ViciDialTestSupport

/// Recordings by customer number and by call, against the real MariaDB.
@Suite struct ViciDialRepositoryRecordingsTests {
    let driver: ViciDialTestDriver
    init() throws { driver = try ViciDialTestDriver() }

    /// A lead stored the ViciDial way (phone_code 1 + a 10-digit number) with three recordings,
    /// and another customer's recording that must never show.
    func seed() async throws -> (national: String, lead: Int64, ids: [Int64], epochs: [Int]) {
        let national = String(TestDatabase.uniquePhoneNumber().dropFirst())
        let lead = try await driver.insertLead(phone: national)
        let t = ViciDialTestDriver.epoch()
        let epochs = [t, t + 3_600, t + 7_200]
        var ids: [Int64] = []
        for (index, epoch) in epochs.enumerated() {
            ids.append(try await driver.insertRecording(vicidialID: ViciDialTestDriver.uniqueid(epoch), leadID: lead, filename: "rec-\(lead)-\(index)",
                                                        at: epoch, seconds: 60 + index, user: "agent\(index)"))
        }
        let other = try await driver.insertLead(phone: TestDatabase.uniquePhoneNumber())
        try await driver.insertRecording(vicidialID: ViciDialTestDriver.uniqueid(t + 10), leadID: other, filename: "other-\(other)", at: t + 10)
        return (national, lead, ids, epochs)
    }

    @Test func aCustomersRecordingsComeNewestFirstWithEveryField() async throws {
        let (national, lead, ids, epochs) = try await seed()
        let repository = try ViciDialTestDriver.repository()
        let found = try await repository.recordings(phoneNumber: try #require(PhoneNumber(national)))
        #expect(found.map(\.recordingID) == ids.reversed())
        let newest = try #require(found.first)
        #expect(newest.filename == "rec-\(lead)-2")
        #expect(newest.location == "/var/spool/asterisk/monitorDONE/rec-\(lead)-2.wav")
        #expect(newest.leadID == lead)
        #expect(newest.user == "agent2")
        #expect(newest.lengthInSeconds == 62)
        #expect(newest.startEpoch == Int64(epochs[2]))
        #expect(newest.vicidialID?.hasPrefix("\(epochs[2]).") == true)
        let times = try await driver.root.query("SELECT FROM_UNIXTIME(?) AS s, FROM_UNIXTIME(?) AS e", [.int(Int64(epochs[2])), .int(Int64(epochs[2] + 62))]).first
        #expect(newest.startTime == (try times?.string("s")))
        #expect(newest.endTime == (try times?.string("e")))
    }

    @Test func aNumberWithItsCountryCodeFindsTheLeadStoredWithoutIt() async throws {
        let (national, _, ids, _) = try await seed()
        let repository = try ViciDialTestDriver.repository()
        let international = "+1 (\(national.prefix(3))) \(national.dropFirst(3).prefix(3))-\(national.suffix(4))"
        #expect(try await repository.recordings(phoneNumber: try #require(PhoneNumber(international))).map(\.recordingID) == ids.reversed())
        #expect(try await repository.recordings(phoneNumber: try #require(PhoneNumber("1" + national))).count == 3)
        // Another country code is another number.
        #expect(try await repository.recordings(phoneNumber: try #require(PhoneNumber("+44" + national))).isEmpty)
    }

    @Test func sinceAndLimitNarrowTheList() async throws {
        let (national, _, ids, epochs) = try await seed()
        let repository = try ViciDialTestDriver.repository()
        let number = try #require(PhoneNumber(national))
        #expect(try await repository.recordings(phoneNumber: number, limit: 2).map(\.recordingID) == [ids[2], ids[1]])
        #expect(try await repository.recordings(phoneNumber: number, since: .epoch(Int64(epochs[1]))).map(\.recordingID) == [ids[2], ids[1]])
        #expect(try await repository.recordings(phoneNumber: number, since: .epoch(Int64(epochs[1] + 1))).map(\.recordingID) == [ids[2]])
        let middle = try #require(try await driver.root.query("SELECT FROM_UNIXTIME(?) AS t", [.int(Int64(epochs[1]))]).first?.string("t"))
        #expect(try await repository.recordings(phoneNumber: number, since: .localTime(middle)).map(\.recordingID) == [ids[2], ids[1]])
    }

    @Test func aCallsRecordingIsFoundByUniqueidOutboundAndInbound() async throws {
        let t = ViciDialTestDriver.epoch()
        let lead = try await driver.insertLead()
        let outbound = ViciDialTestDriver.uniqueid(t)
        // Recorded in two parts: the first is the call's recording.
        let first = try await driver.insertRecording(vicidialID: outbound, leadID: lead, filename: "part1-\(lead)", at: t + 1, seconds: 30)
        try await driver.insertRecording(vicidialID: outbound, leadID: lead, filename: "part2-\(lead)", at: t + 40, seconds: 30)
        let repository = try ViciDialTestDriver.repository()
        let found = try #require(try await repository.recording(uniqueid: outbound))
        #expect(found.recordingID == first)
        #expect(found.filename == "part1-\(lead)")
        #expect(found.vicidialID == outbound)

        let inbound = ViciDialTestDriver.uniqueid(t + 100)
        let closeCallID = try await driver.answerInbound(uniqueid: inbound, leadID: lead, ingroup: "SUPPORT", user: "agent1", at: t + 100)
        let inboundRecording = try await driver.insertRecording(vicidialID: String(closeCallID), leadID: lead, filename: "in-\(lead)", at: t + 101)
        #expect(try await repository.recording(uniqueid: inbound)?.recordingID == inboundRecording)

        #expect(try await repository.recording(uniqueid: ViciDialTestDriver.uniqueid(t + 200)) == nil)
    }
}
