import Hummingbird

/// Just inside CORS: whatever goes wrong below becomes the API's JSON error (Hummingbird's own 404s,
/// 413s and decode errors included) and unexpected errors are logged, not shown.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = APIError(error)
            if apiError.status.code >= 500 {
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            throw apiError
        }
    }
}
