import Foundation
import Hummingbird

/// Requires `Authorization: Bearer amib_<id>_<secret>` on `/v1` routes and records the key's id
/// in the context for rate limiting and handlers.
///
/// Unknown, malformed, wrong and revoked keys all get the same 401, so a caller cannot probe
/// which ids exist or were revoked.
struct APIKeyAuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    var store: APIKeyStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw Self.unauthorized("missing Authorization: Bearer API key")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Self.unauthorized("Authorization must be: Bearer API key")
        }
        guard let keyID = try store.authenticate(String(parts[1]).trimmingCharacters(in: .whitespaces)) else {
            throw Self.unauthorized("invalid or revoked API key")
        }
        var context = context
        context.apiKeyID = keyID
        context.authenticatedKeyID.withLockedValue { $0 = keyID }
        return try await next(request, context)
    }

    private static func unauthorized(_ message: String) -> APIError {
        var error = APIError.unauthorized(message)
        error.headers[.wwwAuthenticate] = "Bearer"
        return error
    }
}
