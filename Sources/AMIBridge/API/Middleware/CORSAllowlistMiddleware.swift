import HTTPTypes
import Hummingbird

/// Browsers may call the API only from `api.cors_origins` (`*` allows any origin).
///
/// Unlike Hummingbird's `CORSMiddleware`, a foreign `Origin` gets a 403 rather than an answer
/// without CORS headers, so a misconfigured CRM page fails loudly. Requests without `Origin`
/// (servers, curl) pass, and so do same-origin ones (the daemon's own status page, whose `POST`s
/// carry `Origin` too): their `Origin` names the host they were sent to. Preflights are answered here, before authentication, because browsers
/// send them without the `Authorization` header.
struct CORSAllowlistMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    var allowedOrigins: [String]
    var allowedMethods = "GET, POST, DELETE, OPTIONS"
    var allowedHeaders = "Authorization, Content-Type, Idempotency-Key"
    var maxAgeSeconds = 600

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], !Self.isSameOrigin(origin, authority: request.head.authority) else {
            return try await next(request, context)
        }
        guard allowedOrigins.contains("*") || allowedOrigins.contains(origin) else {
            throw APIError.forbidden("origin \(origin) not allowed")
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            var headers = corsHeaders(origin: origin)
            headers[.accessControlAllowMethods] = allowedMethods
            headers[.accessControlAllowHeaders] = allowedHeaders
            headers[.accessControlMaxAge] = String(maxAgeSeconds)
            return Response(status: .noContent, headers: headers)
        }
        do {
            var response = try await next(request, context)
            response.headers.append(contentsOf: corsHeaders(origin: origin))
            return response
        } catch {
            // The browser shows the page an error only if the error carries the CORS headers too.
            var apiError = error as? APIError ?? APIError(error)
            apiError.headers.append(contentsOf: corsHeaders(origin: origin))
            throw apiError
        }
    }

    static func isSameOrigin(_ origin: String, authority: String?) -> Bool {
        guard let authority, !authority.isEmpty else { return false }
        return origin == "http://\(authority)" || origin == "https://\(authority)"
    }

    private func corsHeaders(origin: String) -> HTTPFields {
        [.accessControlAllowOrigin: origin, .vary: "Origin", .accessControlExposeHeaders: "Retry-After"]
    }
}
