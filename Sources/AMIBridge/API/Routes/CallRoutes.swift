import Foundation
import HTTPTypes
import Hummingbird

/// `POST /v1/calls` (click-to-call), `GET /v1/calls/{id}` (its status) and `DELETE /v1/calls/{id}`
/// (hang it up). Nil service: no AMI server to originate on, every route answers 503.
struct CallRoutes: Sendable {
    var service: ClickToCallService?

    static let idempotencyKeyField = HTTPField.Name("Idempotency-Key")!
    static let replayedField = HTTPField.Name("Idempotent-Replayed")!

    func register(on group: RouterGroup<APIRequestContext>) {
        group.post("calls") { request, context in try await place(request, context: context) }
        group.get("calls/{id}") { _, context in
            let id = try context.parameters.require("id")
            guard let call = try requireService().registry.status(id) else {
                throw APIError(status: .notFound, code: "not_found", message: "no click-to-call \(id.prefix(64))")
            }
            return Response.json(call)
        }
        group.delete("calls/{id}") { _, context in
            let id = try context.parameters.require("id")
            return Response.json(try await requireService().hangUp(id), status: .accepted)
        }
    }

    private func place(_ request: Request, context: APIRequestContext) async throws -> Response {
        let service = try requireService()
        let key = try Self.idempotencyKey(request.headers[Self.idempotencyKeyField])
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let decoded: ClickToCallRequestBody
        do {
            decoded = try JSONDecoder().decode(ClickToCallRequestBody.self, from: Data(body.readableBytesView))
        } catch {
            throw APIError(status: .badRequest, code: "invalid_json", message: "the body is not a JSON object of the documented fields")
        }
        let clickToCall = try ClickToCallRequest(decoded)
        // Keys are per API key: two CRMs choosing the same key never see each other's calls.
        let (call, created) = try await service.place(clickToCall, idempotencyKey: key.map { "\(context.apiKeyID ?? "")\u{0}\($0)" })
        var response = Response.json(call, status: .accepted)
        if !created { response.headers[Self.replayedField] = "true" }
        return response
    }

    private func requireService() throws(APIError) -> ClickToCallService {
        guard let service else {
            throw APIError(status: .serviceUnavailable, code: "ami_unavailable", message: "no AMI server is configured for click-to-call")
        }
        return service
    }

    /// Printable ASCII, at most 255 characters (what Stripe and the IETF draft allow).
    static func idempotencyKey(_ value: String?) throws(APIError) -> String? {
        guard let value else { return nil }
        guard (1...255).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError(status: .badRequest, code: "invalid_request", message: "Idempotency-Key: 1 to 255 printable ASCII characters")
        }
        return value
    }
}
