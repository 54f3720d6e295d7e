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
            // A 503 names a dependency that is down or not configured (AMI, the database), which
            // the ops person already sees elsewhere: a warning. Anything else in 5xx is a bug.
            switch apiError.status.code {
            case 503:
                context.logger.warning("request refused: dependency unavailable", metadata: ["path": "\(request.uri.path)", "error": "\(apiError.code)"])
            case 500...:
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            default:
                break
            }
            throw apiError
        }
    }
}
