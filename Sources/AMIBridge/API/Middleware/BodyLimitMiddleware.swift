import Hummingbird

/// Answers 413 when a request body is over `api.body_limit_bytes`.
///
/// A declared `Content-Length` is refused before reading a byte; a chunked body is read up to the
/// limit and refused there, so no client can make the daemon buffer more than the limit.
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
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Self.tooLarge(limit)
        }
        return try await next(request, context)
    }

    private static func tooLarge(_ limit: Int) -> APIError {
        APIError(status: .contentTooLarge, code: "body_too_large", message: "request body is over \(limit) bytes")
    }
}
