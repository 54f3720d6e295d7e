import EventMapper
import Foundation
import Hummingbird
import Logging
import MariaDB
import NIOCore
import ViciDial

/// `POST /v1/leads`: a batch of leads into `vicidial_list`, as a JSON array of objects or as CSV
/// with a header row (`Content-Type: text/csv`), far faster than one request per lead.
///
/// Every row is validated on its own (``ViciDialNewLead``); the valid ones are inserted in one
/// batch (``ViciDialRepository/insertLeads(_:)``) and the answer lists each row's outcome in
/// input order, rows numbered from 1 (the CSV header is not a row):
/// `{"results":[{"row":1,"status":"inserted","lead_id":N},{"row":2,"status":"invalid","errors":[...]}],"inserted":1,"invalid":1}`.
struct LeadRoutes: ViciDialRouteGroup {
    var vicidial: ViciDialRepository?

    /// More rows than this is a 413. With the default `api.body_limit_bytes` (1 MiB) a batch of
    /// typical leads (about 200 bytes each) stops near 5,000 rows; raise the limit for larger ones.
    static let maximumRows = 10_000

    func register(on group: RouterGroup<APIRequestContext>) {
        group.post("leads") { request, context in try await importLeads(request, context) }
    }

    func importLeads(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await withRepository { repository in
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            let rows = try Self.rows(of: body, contentType: request.headers[.contentType])
            guard !rows.isEmpty else { throw APIError.invalidRequest("the body holds no leads") }
            guard rows.count <= Self.maximumRows else {
                throw APIError(status: .contentTooLarge, code: "too_many_rows", message: "at most \(Self.maximumRows) leads per request; this one has \(rows.count)")
            }
            var results: [RowResult] = []
            var leads: [(index: Int, lead: ViciDialNewLead)] = []
            for (index, row) in rows.enumerated() {
                results.append(RowResult(row: index + 1, status: "invalid"))
                do throws(ViciDialLeadValidationError) {
                    leads.append((index, try ViciDialNewLead(fields: try row.get())))
                } catch {
                    results[index].errors = error.fieldErrors
                }
            }
            let ids: [Int64]
            do {
                ids = try await repository.insertLeads(leads.map(\.lead))
            } catch let error as ViciDialLeadImportError {
                throw Self.importFailed(error, logger: context.logger)
            }
            for (entry, id) in zip(leads, ids) {
                results[entry.index].status = "inserted"
                results[entry.index].leadID = id
            }
            return Response.json(ImportBody(results: results, inserted: ids.count, invalid: rows.count - ids.count))
        }
    }

    /// One input row: its fields by name, or why it has none (a JSON element that is not an
    /// object, a CSV record with the wrong number of fields).
    typealias Row = Result<[String: String], ViciDialLeadValidationError>

    static func rows(of body: ByteBuffer, contentType: String?) throws -> [Row] {
        let mediaType = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        switch mediaType {
        case "text/csv"?: return try csvRows(body)
        case "application/json"?, nil: return try jsonRows(body)
        default:
            throw APIError(status: .unsupportedMediaType, code: "unsupported_media_type", message: "send Content-Type: application/json (an array of objects) or text/csv (with a header row)")
        }
    }

    static func jsonRows(_ body: ByteBuffer) throws -> [Row] {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))
        } catch {
            throw APIError.invalidRequest("the body is not valid JSON")
        }
        guard case .array(let elements) = value else { throw APIError.invalidRequest("the body must be a JSON array of lead objects") }
        return elements.map { element in
            guard case .object(let object) = element else { return .failure(.row("must be a JSON object")) }
            var fields: [String: String] = [:]
            var problems: [ViciDialLeadValidationError.FieldError] = []
            for (name, value) in object.sorted(by: { $0.key < $1.key }) {
                if let text = value.fieldText {
                    fields[name] = text
                } else {
                    problems.append(.init(field: name, message: "must be a string or a number"))
                }
            }
            return problems.isEmpty ? .success(fields) : .failure(ViciDialLeadValidationError(fieldErrors: problems))
        }
    }

    /// The header names the fields (case and surrounding spaces do not matter). A header that
    /// names an unknown or repeated column, or lacks a required one, fails every row alike, so it
    /// is one 400 rather than a result per row.
    static func csvRows(_ body: ByteBuffer) throws -> [Row] {
        let table: CSVTable
        do {
            table = try CSVTable(parsing: body.readableBytesView)
        } catch {
            throw APIError.invalidRequest("the body is not valid CSV: \(error)")
        }
        guard let header = table.records.first else { throw APIError.invalidRequest("the CSV body has no header row") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let known = Set(ViciDialNewLead.fieldNames)
        let unknown = names.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw APIError.invalidRequest("unknown CSV columns: \(unknown.joined(separator: ", ")); known: \(ViciDialNewLead.fieldNames.joined(separator: ", "))")
        }
        guard Set(names).count == names.count else { throw APIError.invalidRequest("a CSV column is named twice") }
        let missing = ViciDialNewLead.requiredFieldNames.filter { !names.contains($0) }
        guard missing.isEmpty else { throw APIError.invalidRequest("the CSV header lacks \(missing.joined(separator: ", "))") }
        return table.records.dropFirst().map { record in
            guard record.fields.count == names.count else {
                return .failure(.row("line \(record.line) has \(record.fields.count) fields; the header has \(names.count)"))
            }
            return .success(Dictionary(uniqueKeysWithValues: zip(names, record.fields)))
        }
    }

    static func importFailed(_ error: ViciDialLeadImportError, logger: Logger) -> APIError {
        let database = error.underlying as? MariaDBError
        // The statement text is left out: a batch's INSERT carries thousands of placeholders.
        logger.error("lead import failed", metadata: [
            "error": "\(database.map { "MariaDB error \($0.code): \($0.message)" } ?? "\(error.underlying)")",
            "written": "\(error.writtenLeadIDs.count)",
        ])
        let written = error.isTransactional
            ? "nothing was written"
            : error.writtenLeadIDs.isEmpty
                ? "vicidial_list cannot roll back (MyISAM); the failing statement may have written part of its rows"
                : "vicidial_list cannot roll back (MyISAM): lead_id \(error.writtenLeadIDs.first!)-\(error.writtenLeadIDs.last!) (\(error.writtenLeadIDs.count) leads) were written, and the failing statement may have written part of its rows"
        let unreachable = database.map { $0.code.isConnectionLost } ?? false
        return APIError(
            status: unreachable ? .serviceUnavailable : .internalServerError,
            code: "import_failed",
            message: "the database failed during the import; \(written)"
        )
    }

    struct RowResult: Encodable, Sendable {
        var row: Int
        var status: String
        var leadID: Int64?
        var errors: [ViciDialLeadValidationError.FieldError]?

        enum CodingKeys: String, CodingKey {
            case row, status, errors
            case leadID = "lead_id"
        }
    }

    struct ImportBody: Encodable, Sendable {
        var results: [RowResult]
        var inserted: Int
        var invalid: Int
    }
}

extension ViciDialLeadValidationError {
    /// A problem with the row as a whole rather than one of its fields.
    static func row(_ message: String) -> ViciDialLeadValidationError {
        ViciDialLeadValidationError(fieldErrors: [.init(field: "row", message: message)])
    }
}
