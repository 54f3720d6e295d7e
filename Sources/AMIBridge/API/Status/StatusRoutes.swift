import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The live status page: `GET /` (the page), `GET /status.json` (what it shows) and
/// `POST /v1/dead-letters/{delivery_id}/retry` (its Retry buttons).
///
/// The page and its JSON need no API key (like `/metrics`, for a wall screen or a quick look)
/// but are behind `api.ip_allowlist`; numbers are masked in the JSON when
/// `log.mask_phone_numbers` is on. A retry changes the outbox, so it is a `/v1` route and needs
/// a key. Nil service (router tests): the JSON and the retry answer 503.
struct StatusRoutes: Sendable {
    var service: StatusService?

    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    func register(on router: Router<APIRequestContext>) {
        router.get("/") { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8",
                    .contentSecurityPolicy: StatusPage.contentSecurityPolicy,
                    .xContentTypeOptions: "nosniff",
                    .cacheControl: "no-store",
                    Self.referrerPolicy: "no-referrer",
                ],
                body: .init(byteBuffer: ByteBuffer(string: StatusPage.html))
            )
        }
        router.get("status.json") { _, _ in
            let snapshot = try await requireService().snapshot()
            return try Self.json(snapshot)
        }
    }

    func register(on v1: RouterGroup<APIRequestContext>) {
        v1.post("dead-letters/{delivery_id}/retry") { _, context in
            let text = try context.parameters.require("delivery_id")
            guard let id = Int64(text), id > 0 else {
                throw APIError.invalidRequest("delivery_id must be a positive integer")
            }
            guard try await requireService().retryDeadLetter(id) else {
                throw APIError.notFound("no dead letter \(id)")
            }
            return try Self.json(RetryAnswer(deliveryID: id, retried: true))
        }
    }

    private struct RetryAnswer: Encodable {
        var deliveryID: Int64
        var retried: Bool
    }

    private func requireService() throws(APIError) -> StatusService {
        guard let service else {
            throw APIError(status: .serviceUnavailable, code: "status_unavailable", message: "this server keeps no status")
        }
        return service
    }

    /// Sorted snake_case keys, as every API answer; never cached (it is live).
    static func json(_ value: some Encodable) throws(APIError) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? encoder.encode(value) else {
            throw APIError(status: .internalServerError, code: "internal_error", message: "internal error")
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
