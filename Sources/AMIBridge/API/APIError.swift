import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Every error the HTTP API answers with: `{"error": {"code": "...", "message": "..."}}`.
///
/// A struct with an open `code` (not an enum) so later endpoints add codes such as `agent_busy`
/// without touching this file. Clients branch on `code`; `message` is for people.
struct APIError: Error, HTTPResponseError, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: HTTPFields = [:]

    static func unauthorized(_ message: String) -> APIError { APIError(status: .unauthorized, code: "unauthorized", message: message) }
    static func forbidden(_ message: String) -> APIError { APIError(status: .forbidden, code: "forbidden", message: message) }
    static func invalidRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: "invalid_request", message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }
    static func tooManyRequests(retryAfterSeconds: Int) -> APIError {
        APIError(
            status: .tooManyRequests, code: "rate_limited",
            message: "rate limit exceeded; retry after \(retryAfterSeconds) s",
            headers: [.retryAfter: String(retryAfterSeconds)]
        )
    }

    /// Any error thrown below the API's middleware, as the JSON error the client gets. Hummingbird's
    /// own errors (404 from the router, 413 from a body limit, 400 from decoding) keep their status;
    /// anything else is a 500 whose details stay in the log.
    init(_ error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as HTTPError:
            self.init(status: error.status, code: Self.code(for: error.status), message: error.body ?? error.status.reasonPhrase, headers: error.headers)
        case let error as any HTTPResponseError:
            self.init(status: error.status, code: Self.code(for: error.status), message: error.status.reasonPhrase)
        default:
            self.init(status: .internalServerError, code: "internal_error", message: "internal error")
        }
    }

    init(status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "invalid_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 409: "conflict"
        case 413: "body_too_large"
        case 429: "rate_limited"
        case 503: "unavailable"
        default: status.code < 500 ? "client_error" : "internal_error"
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response.json(Body(error: .init(code: code, message: message)), status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    private struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }
}

extension Response {
    /// A JSON body with sorted keys, so answers are stable for clients and tests.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"code":"internal_error","message":"encoding failed"}}"#.utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
