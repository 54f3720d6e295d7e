import Hummingbird

/// 429 with `Retry-After` once a key has used its token bucket (`api.rate_limit_per_minute`).
/// Runs after authentication: the limit is per key, not per address.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    var limiter: TokenBucketRateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch limiter.acquire(key: context.apiKeyID ?? "anonymous") {
        case .allowed:
            return try await next(request, context)
        case .limited(let retryAfterSeconds):
            throw APIError.tooManyRequests(retryAfterSeconds: retryAfterSeconds)
        }
    }
}
