import Hummingbird

/// Answers 403 to peers outside `api.ip_allowlist`; an empty list allows everyone.
///
/// Runs before authentication so a scanner outside the allowlist learns nothing about keys.
struct IPAllowlistMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    var allowlist: [IPAddressRange]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard allowlist.isEmpty || isAllowed(context.remoteAddress?.ipAddress) else {
            throw APIError.forbidden("client address not allowed")
        }
        return try await next(request, context)
    }

    private func isAllowed(_ address: String?) -> Bool {
        guard let address else { return false }
        return allowlist.contains { $0.contains(address) }
    }
}
