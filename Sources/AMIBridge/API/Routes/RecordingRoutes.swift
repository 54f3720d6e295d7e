import EventMapper
import Foundation
import HTTPTypes
import Hummingbird
import ViciDial

/// Recordings from ViciDial's `recording_log`, for a CRM's call history:
/// `GET /v1/recordings?phone_number=&since=&limit=` (a customer's recordings, newest first),
/// `GET /v1/calls/{uniqueid}/recording` (one call's), and
/// `GET /v1/recordings/{recording_id}/audio` (the file itself, when it is on this box).
struct RecordingRoutes: ViciDialRouteGroup {
    var vicidial: ViciDialRepository?
    var files: RecordingFiles
    var fileIO = FileIO()

    static let defaultLimit = 100
    static let maximumLimit = 1_000

    func register(on group: RouterGroup<APIRequestContext>) {
        group.get("recordings") { request, context in try await recordings(request, context) }
        // `{id}`: the router needs one parameter name per position, and `/v1/calls/{id}` is there.
        group.get("calls/{id}/recording") { request, context in try await callRecording(request, context) }
        group.get("recordings/{recording_id}/audio") { request, context in try await audio(request, context) }
    }

    func recordings(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        guard let text = request.query("phone_number") else { throw APIError.invalidRequest("phone_number is required") }
        guard let phoneNumber = PhoneNumber(text) else { throw APIError.invalidRequest("phone_number must be \(PhoneNumber.rule)") }
        let since = try request.query("since").map { text in
            guard let bound = ViciDialTimeBound(iso8601: text) else {
                throw APIError.invalidRequest("since must be an ISO 8601 date or datetime (2026-01-15, 2026-01-15T14:32:00, 2026-01-15T14:32:00Z)")
            }
            return bound
        }
        var limit = Self.defaultLimit
        if let text = request.query("limit") {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw APIError.invalidRequest("limit must be a whole number from 1 to \(Self.maximumLimit)")
            }
            limit = value
        }
        let found = try await withRepository { try await $0.recordings(phoneNumber: phoneNumber, since: since, limit: limit) }
        return Response.json(RecordingList(recordings: found.map(RecordingBody.init)))
    }

    func callRecording(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        // Asterisk uniqueids are `epoch.sequence`, with the system name in front when one is set.
        let uniqueid = context.parameters.get("id") ?? ""
        guard AMIName.isValid(uniqueid, maximumLength: 40, punctuation: "._-") else { throw APIError.invalidRequest("uniqueid must be 1-40 letters, digits, ., _ or -") }
        guard let recording = try await withRepository({ try await $0.recording(uniqueid: uniqueid) }) else {
            throw APIError.notFound("no recording for call \(uniqueid)")
        }
        return Response.json(RecordingBody(recording))
    }

    /// The audio, whole or the one byte range asked for, streamed from disk; 404 when the file is
    /// not on this box (archived elsewhere, deleted) or would be outside `api.recording_directories`.
    func audio(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        guard let text = context.parameters.get("recording_id"), let id = Int64(text), id > 0, text.utf8.count <= 10 else {
            throw APIError.invalidRequest("recording_id must be a recording_log.recording_id (a whole number)")
        }
        guard let recording = try await withRepository({ try await $0.recording(id: id) }) else {
            throw APIError.notFound("no recording \(id)")
        }
        guard let path = files.file(for: recording),
              let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue else {
            throw APIError.notFound("the audio of recording \(id) is not on this server (see its location)")
        }
        var headers: HTTPFields = [.contentType: RecordingFiles.contentType(of: path), .acceptRanges: "bytes"]
        let range = ByteRange(header: request.headers[.range], size: size)
        switch range {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .whole:
            headers[.contentLength] = String(size)
            let body = size == 0 ? ResponseBody() : try await fileIO.loadFile(path: path, context: context)
            return Response(status: .ok, headers: headers, body: body)
        case .part(let bytes):
            headers[.contentLength] = String(bytes.count)
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(size)"
            let body = try await fileIO.loadFile(path: path, range: bytes, context: context)
            return Response(status: .partialContent, headers: headers, body: body)
        }
    }

    struct RecordingList: Encodable, Sendable {
        var recordings: [RecordingBody]
    }

    /// One `recording_log` row. Times are `YYYY-MM-DD HH:MM:SS` in the ViciDial server's local
    /// time, as ViciDial writes them; `location` becomes an HTTP URL once ViciDial's archiving
    /// cron has moved the file.
    struct RecordingBody: Encodable, Sendable {
        var recordingID: Int64
        @NullEncoded var filename: String?
        @NullEncoded var location: String?
        @NullEncoded var startTime: String?
        @NullEncoded var endTime: String?
        @NullEncoded var lengthInSeconds: Int64?
        @NullEncoded var leadID: Int64?
        @NullEncoded var user: String?
        /// `vicidial_id`: the outbound call's uniqueid, or the inbound call's closecallid.
        @NullEncoded var uniqueid: String?
        /// The lead's number (`vicidial_list.phone_number`).
        @NullEncoded var phoneNumber: String?
        /// The call's `call_date`, or the recording's start when ViciDial has no call row.
        @NullEncoded var callDate: String?

        init(_ recording: ViciDialRecording) {
            recordingID = recording.recordingID
            filename = recording.filename
            location = recording.location
            startTime = recording.startTime
            endTime = recording.endTime
            lengthInSeconds = recording.lengthInSeconds
            leadID = recording.leadID
            user = recording.user
            uniqueid = recording.vicidialID
            phoneNumber = recording.phoneNumber
            callDate = recording.callDate
        }

        enum CodingKeys: String, CodingKey {
            case filename, location, user, uniqueid
            case recordingID = "recording_id"
            case startTime = "start_time"
            case endTime = "end_time"
            case lengthInSeconds = "length_in_sec"
            case leadID = "lead_id"
            case phoneNumber = "phone_number"
            case callDate = "call_date"
        }
    }
}
