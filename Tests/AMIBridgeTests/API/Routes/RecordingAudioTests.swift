@testable import AMIBridge
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import ViciDial
import ViciDialTestSupport

/// `GET /v1/recordings/{recording_id}/audio`: the file from `api.recording_directories`, whole or
/// by byte range, and nothing from anywhere else.
@Suite struct RecordingAudioTests {
    /// A recording directory with an `MP3/` mixing subdirectory, removed by `remove()`.
    struct Directory {
        let path = NSTemporaryDirectory() + "amibridge-recordings-" + UUID().uuidString
        init() throws { try FileManager.default.createDirectory(atPath: path + "/MP3", withIntermediateDirectories: true) }
        func remove() { try? FileManager.default.removeItem(atPath: path) }
    }

    /// 1,000 bytes that tell their positions apart.
    static let audio = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }

    struct Fetched {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: [UInt8]
    }

    static func fetch(_ test: ViciDialAPITest, _ directory: Directory, _ id: Int64, range: String? = nil) async throws -> Fetched {
        var headers = APITestEnvironment.bearer(test.key)
        if let range { headers[.range] = range }
        let fields = headers
        let app = test.environment.application({ $0.recordingDirectories = [directory.path] }, vicidial: test.repository)
        return try await app.test(.router) { client in
            try await client.execute(uri: "/v1/recordings/\(id)/audio", method: .get, headers: fields) { response in
                Fetched(status: response.status, headers: response.headers, body: Array(buffer: response.body))
            }
        }
    }

    func recording(_ test: ViciDialAPITest, filename: String, location: String? = nil) async throws -> Int64 {
        let lead = try await test.driver.insertLead()
        let t = ViciDialTestDriver.epoch()
        return try await test.driver.insertRecording(vicidialID: ViciDialTestDriver.uniqueid(t), leadID: lead, filename: filename, at: t, seconds: 30, location: location)
    }

    @Test func theWholeFileAndEachKindOfRange() async throws {
        let test = try ViciDialAPITest()
        let directory = try Directory()
        defer { test.remove(); directory.remove() }
        let name = "rec-\(UUID().uuidString)"
        // recording_log keeps the name without extension and the path it was first written to.
        try Data(Self.audio).write(to: URL(fileURLWithPath: directory.path + "/\(name).wav"))
        let id = try await recording(test, filename: name)

        let whole = try await Self.fetch(test, directory, id)
        #expect(whole.status == .ok)
        #expect(whole.body == Self.audio)
        #expect(whole.headers[.contentType] == "audio/wav")
        #expect(whole.headers[.acceptRanges] == "bytes")
        #expect(whole.headers[.contentLength] == "1000")

        let cases: [(String, ClosedRange<Int>)] = [("bytes=10-19", 10...19), ("bytes=990-", 990...999), ("bytes=-5", 995...999), ("bytes=900-5000", 900...999)]
        for (header, bytes) in cases {
            let part = try await Self.fetch(test, directory, id, range: header)
            #expect(part.status == .partialContent, "\(header)")
            #expect(part.body == Array(Self.audio[bytes]), "\(header)")
            #expect(part.headers[.contentRange] == "bytes \(bytes.lowerBound)-\(bytes.upperBound)/1000", "\(header)")
            #expect(part.headers[.contentLength] == String(bytes.count), "\(header)")
        }
        let beyond = try await Self.fetch(test, directory, id, range: "bytes=1000-")
        #expect(beyond.status == .rangeNotSatisfiable)
        #expect(beyond.headers[.contentRange] == "bytes */1000")
        // Several ranges: the whole file, as RFC 9110 allows.
        let several = try await Self.fetch(test, directory, id, range: "bytes=0-1,5-6")
        #expect(several.status == .ok && several.body == Self.audio)
    }

    @Test func anArchivedLocationFindsTheFileByItsNameInAMixingSubdirectory() async throws {
        let test = try ViciDialAPITest()
        let directory = try Directory()
        defer { test.remove(); directory.remove() }
        let name = "arch-\(UUID().uuidString)"
        try Data(Self.audio.prefix(100)).write(to: URL(fileURLWithPath: directory.path + "/MP3/\(name)-all.mp3"))
        let id = try await recording(test, filename: name, location: "https://vici.example.com/RECORDINGS/MP3/\(name)-all.mp3")
        let fetched = try await Self.fetch(test, directory, id)
        #expect(fetched.status == .ok)
        #expect(fetched.headers[.contentType] == "audio/mpeg")
        #expect(fetched.body == Array(Self.audio.prefix(100)))
    }

    @Test func nothingOutsideTheDirectoriesIsServed() async throws {
        let test = try ViciDialAPITest()
        let directory = try Directory()
        let outside = try Directory()
        defer { test.remove(); directory.remove(); outside.remove() }
        let secret = outside.path + "/secret.wav"
        try Data("not yours".utf8).write(to: URL(fileURLWithPath: secret))
        // A symlink inside pointing out, a name climbing out, an absolute location elsewhere.
        let linked = "link-\(UUID().uuidString)"
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/\(linked).wav", withDestinationPath: secret)
        let climbing = try await recording(test, filename: "../" + (outside.path as NSString).lastPathComponent + "/secret", location: "")
        let symlink = try await recording(test, filename: linked)
        let absolute = try await recording(test, filename: "x-\(UUID().uuidString)", location: secret)
        let notHere = try await recording(test, filename: "gone-\(UUID().uuidString)")
        for id in [climbing, symlink, absolute, notHere] {
            let fetched = try await Self.fetch(test, directory, id)
            #expect(fetched.status == .notFound, "recording \(id)")
            #expect(!String(decoding: fetched.body, as: UTF8.self).contains("not yours"))
        }
        #expect(try await Self.fetch(test, directory, 4_000_000_000).status == .notFound, "no such recording")
    }

    @Test func theRecordingIDMustBeANumber() async throws {
        let test = try ViciDialAPITest()
        defer { test.remove() }
        for path in ["/v1/recordings/abc/audio", "/v1/recordings/-1/audio", "/v1/recordings/99999999999/audio"] {
            let answer = try await test.request(path)
            #expect(answer.status == .badRequest, "\(path)")
            #expect(answer.errorCode == "invalid_request")
        }
    }

    @Test("Range headers: one range of three forms; anything else is the whole file")
    func byteRanges() {
        #expect(ByteRange(header: nil, size: 10) == .whole)
        #expect(ByteRange(header: "bytes=2-4", size: 10) == .part(2...4))
        #expect(ByteRange(header: "bytes=8-", size: 10) == .part(8...9))
        #expect(ByteRange(header: "bytes=-3", size: 10) == .part(7...9))
        #expect(ByteRange(header: "bytes=-30", size: 10) == .part(0...9))
        #expect(ByteRange(header: "bytes=10-", size: 10) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=-0", size: 10) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=5-2", size: 10) == .whole)
        #expect(ByteRange(header: "bytes=1-2,4-5", size: 10) == .whole)
        #expect(ByteRange(header: "items=1-2", size: 10) == .whole)
        #expect(ByteRange(header: "bytes=a-b", size: 10) == .whole)
        #expect(ByteRange(header: "bytes=99999999999999999999-", size: 10) == .unsatisfiable)
    }
}
