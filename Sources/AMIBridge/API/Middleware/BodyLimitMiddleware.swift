import Hummingbird

/// Answers 413 when a request body is over `api.body_limit_bytes`.
///
/// A declared `Content-Length` is refused before reading a byte; a chunked body is read up to the
/// limit and refused there, so no client can make the daemon buffer more than the limit. A body
/// whose framing is broken (a bad chunk) is a 400.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    var limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw Self.tooLarge(limit)
        }
        var request = request
        var context = context
        context.bodyLimit = limit
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch let error as any HTTPResponseError {
            // Hummingbird's own refusal of a body over the limit (chunked bodies end here).
            guard error.status == .contentTooLarge else { throw error }
            throw Self.tooLarge(limit)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // The body broke HTTP/1.1 framing on the way in (a chunk size that is not hex, ...):
            // the client's bytes, not a server error.
            throw APIError.invalidRequest("the request body is not valid HTTP/1.1")
        }
        return try await next(request, context)
    }

    private static func tooLarge(_ limit: Int) -> APIError {
        APIError(status: .contentTooLarge, code: "body_too_large", message: "request body is over \(limit) bytes")
    }
}
