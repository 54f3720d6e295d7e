import CoreMetrics
import Hummingbird
import Logging
import NIOConcurrencyHelpers

/// Counts, times and logs every answer: `amibridge_api_requests_total{route,method,status}`,
/// `amibridge_api_request_duration_seconds{route,method}`, and one JSON log line per request
/// (`message: "request"`, with method, route, status, duration_ms, key_id and client).
///
/// Outermost, so refusals by the other middleware (403, 413, 401, 429) count with their status.
/// `route` is the matched route template (`/v1/calls/{id}`), never the raw path or its query, so
/// scanners probing random paths add one `NotFound` series (Hummingbird's name), not one per
/// path, and the log never holds a phone number or an API key from a URL. The key is logged by
/// its id only (see ``APIRequestContext/authenticatedKeyID``).
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    /// nil: log only (router tests without a metrics registry).
    var factory: (any MetricsFactory)?
    var logger: Logger
    private let handles = MetricHandles()

    init(factory: (any MetricsFactory)?, logger: Logger) {
        self.factory = factory
        self.logger = logger
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, since: start)
            return response
        } catch {
            record(request, context, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: start)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, since start: ContinuousClock.Instant) {
        let elapsed = (ContinuousClock.now - start).components
        let nanoseconds = elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000
        let route = context.endpointPath ?? "NotFound"
        let method = request.method.rawValue
        if let factory {
            let (counter, timer) = handles.get(route: route, method: method, status: status, factory: factory)
            counter.increment()
            timer.recordNanoseconds(nanoseconds)
        }
        logger.info("request", metadata: [
            "method": "\(method)", "route": "\(route)", "status": "\(status)",
            "duration_ms": "\(Double(nanoseconds / 1_000) / 1_000)",
            "key_id": "\(context.authenticatedKeyID.withLockedValue { $0 } ?? "-")",
            "client": "\(context.remoteAddress?.ipAddress ?? "-")",
        ])
    }

    /// The metric handles by route, method and status, made once each (creating a handle looks it
    /// up in the registry under the registry's lock on every request otherwise). Bounded: routes
    /// are templates and methods and statuses few.
    private final class MetricHandles: Sendable {
        private struct Key: Hashable {
            var route: String
            var method: String
            var status: Int
        }

        private let handles = NIOLockedValueBox<[Key: (Counter, Timer)]>([:])

        func get(route: String, method: String, status: Int, factory: any MetricsFactory) -> (Counter, Timer) {
            let key = Key(route: route, method: method, status: status)
            if let found = handles.withLockedValue({ $0[key] }) { return found }
            let made = (
                Counter(label: "amibridge_api_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory),
                Timer(label: "amibridge_api_request_duration_seconds", dimensions: [("route", route), ("method", method)], factory: factory)
            )
            handles.withLockedValue { $0[key] = made }
            return made
        }
    }
}
