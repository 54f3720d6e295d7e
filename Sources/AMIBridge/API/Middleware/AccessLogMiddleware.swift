import CoreMetrics
import Hummingbird

/// Counts every answer in `amibridge_api_requests_total{route,method,status}`.
///
/// Outermost, so refusals by the other middleware (403, 413, 401, 429) count with their status.
/// `route` is the matched route template (`/v1/calls/{id}`), never the raw path, so scanners
/// probing random paths add one `NotFound` series (Hummingbird's name), not one per path.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    var factory: any MetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            count(request, context, status: response.status.code)
            return response
        } catch {
            count(request, context, status: (error as? any HTTPResponseError)?.status.code ?? 500)
            throw error
        }
    }

    private func count(_ request: Request, _ context: Context, status: Int) {
        let dimensions = [
            ("route", context.endpointPath ?? "NotFound"), ("method", request.method.rawValue), ("status", String(status)),
        ]
        Counter(label: "amibridge_api_requests_total", dimensions: dimensions, factory: factory).increment()
    }
}
