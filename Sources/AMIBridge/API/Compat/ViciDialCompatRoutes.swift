import EventMapper
import Foundation
import HTTPTypes
import Hummingbird
import ViciDial

/// `GET|POST /agc/api.php`: the calls of scripts written against ViciDial's agent API, answered
/// by amibridge: `function=click2call`, `get_agent_status`, `add_lead` and `version`.
///
/// Like ViciDial, answers are `200 OK` plain text, `status=SUCCESS&result=...` or
/// `status=ERROR&result=<code>&message=...`, which PHP's `parse_str` reads into an array; with
/// `format=json` the same fields as a JSON object. Only refusals that happen before the request is
/// read (IP allowlist 403, body limit 413, rate limit 429) keep their HTTP status.
///
/// Authentication: `api_key` (or `pass`, so existing scripts only change the value) is an
/// amibridge API key; `user` is required as in ViciDial and is logged, not trusted.
struct ViciDialCompatRoutes: ViciDialRouteGroup {
    var keyStore: APIKeyStore
    var rateLimiter: TokenBucketRateLimiter
    var clickToCall: ClickToCallService?
    var vicidial: ViciDialRepository?

    static let version = "amibridge 1.0 (ViciDial agent API compatible: click2call, get_agent_status, add_lead, version)"

    /// Parameters that are the API's own, never lead fields.
    static let controlParameters: Set<String> = ["function", "user", "pass", "api_key", "format", "source"]

    func register(on router: Router<APIRequestContext>) {
        router.get("agc/api.php") { request, context in try await answer(request, context: context) }
        router.post("agc/api.php") { request, context in try await answer(request, context: context) }
    }

    private func answer(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        var pairs = FormEncoding.decode(Substring(request.uri.query ?? ""))
        // A GET may carry its parameters in a form body too (`curl -X GET --data-urlencode ...`,
        // as batch scripts written for ViciDial send them): read like a POST's.
        if request.method == .post || request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            pairs += FormEncoding.decode(Substring(String(decoding: body.readableBytesView, as: UTF8.self)))
        }
        // The first value of a name wins, as ViciDial reads $_GET before $_POST.
        var parameters: [String: String] = [:]
        for (name, value) in pairs where parameters[name] == nil { parameters[name] = value }
        let json = parameters["format"]?.lowercased() == "json"

        let fields: [(String, String)]
        do {
            let keyID = try authenticate(parameters)
            context.authenticatedKeyID.withLockedValue { $0 = keyID }
            fields = try await perform(parameters)
        } catch let error as APIError where [.tooManyRequests].contains(error.status) {
            throw error
        } catch {
            let apiError = APIError(error)
            fields = [("status", "ERROR"), ("result", apiError.code), ("message", apiError.message)]
        }
        return Self.response(fields, json: json)
    }

    /// The id of the key in `api_key` (or `pass`), once it is accepted and within its rate.
    private func authenticate(_ parameters: [String: String]) throws(APIError) -> String {
        guard let user = parameters["user"], !user.isEmpty else {
            throw APIError(status: .unauthorized, code: "unauthorized", message: "user is required")
        }
        guard let key = parameters["api_key"] ?? parameters["pass"],
              let keyID = try? keyStore.authenticate(key) else {
            throw APIError(status: .unauthorized, code: "unauthorized", message: "invalid or revoked API key in api_key (or pass)")
        }
        if case .limited(let seconds) = rateLimiter.acquire(key: keyID) {
            throw APIError.tooManyRequests(retryAfterSeconds: seconds)
        }
        return keyID
    }

    private func perform(_ parameters: [String: String]) async throws -> [(String, String)] {
        switch parameters["function"] ?? "" {
        case "version":
            return [("status", "SUCCESS"), ("result", "version"), ("version", Self.version)]
        case "click2call":
            return try await placeCall(parameters)
        case "get_agent_status":
            return try await agentStatus(parameters)
        case "add_lead":
            return try await addLead(parameters)
        case let other:
            throw APIError(status: .badRequest, code: "invalid_function",
                           message: "function '\(other.prefix(40))' is not one of click2call, get_agent_status, add_lead, version")
        }
    }

    private func placeCall(_ parameters: [String: String]) async throws -> [(String, String)] {
        guard let service = clickToCall else {
            throw APIError(status: .serviceUnavailable, code: "ami_unavailable", message: "no AMI server is configured for click-to-call")
        }
        let list = parameters["list_id"].flatMap { $0.isEmpty ? nil : $0 }
        if let list, Int(list) == nil { throw ClickToCallRequest.invalid("list_id", "must be a number") }
        let body = ClickToCallRequestBody(
            agent_user: parameters["agent_user"], agent_phone: nil, phone_number: parameters["phone_number"],
            campaign_id: parameters["campaign_id"].flatMap { $0.isEmpty ? nil : $0 },
            lead_id: try parameters["lead_id"].flatMap { text throws(APIError) in
                guard !text.isEmpty else { return nil }
                guard let lead = Int(text) else { throw ClickToCallRequest.invalid("lead_id", "must be a number") }
                return lead
            },
            list_id: list.flatMap { Int($0) },
            caller_id: parameters["caller_id_number"].flatMap { $0.isEmpty ? nil : $0 }
        )
        let (call, _) = try await service.place(try ClickToCallRequest(body), idempotencyKey: nil)
        return [("status", "SUCCESS"), ("result", "click2call"), ("call_id", call.callID), ("call_status", call.status.rawValue)]
    }

    private func agentStatus(_ parameters: [String: String]) async throws -> [(String, String)] {
        guard let user = parameters["agent_user"], AMIName.isViciDialUser(user) else {
            throw APIError(status: .badRequest, code: "invalid_request", message: "agent_user: a ViciDial user name is required")
        }
        guard let agent = try await withRepository({ try await $0.agentStatus(user: user) }) else {
            throw APIError(status: .notFound, code: "unknown_agent", message: "agent_user '\(user)' is not a ViciDial user")
        }
        // `status` is the agent's state, as scripts written for ViciDial print `$status['status']`;
        // errors still answer status=ERROR (no agent state is called that).
        return [
            ("status", agent.status), ("result", "get_agent_status"), ("agent_user", agent.user), ("agent_status", agent.status),
            ("campaign_id", agent.live?.campaignID ?? ""), ("calls_today", String(agent.callsToday)), ("talk_time", String(agent.talkSecondsToday)),
        ]
    }

    private func addLead(_ parameters: [String: String]) async throws -> [(String, String)] {
        var fields = parameters.filter { !Self.controlParameters.contains($0.key) }
        if fields["list_id"] == nil { fields["list_id"] = "999" } // ViciDial's add_lead default
        let lead: ViciDialNewLead
        do {
            lead = try ViciDialNewLead(fields: fields, ignoringUnknownFields: true)
        } catch {
            let detail = error.fieldErrors.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
            throw APIError(status: .badRequest, code: "invalid_lead", message: detail)
        }
        let leadID = try await withRepository { try await $0.addLead(lead) }
        return [("status", "SUCCESS"), ("result", "add_lead"), ("lead_id", String(leadID))]
    }

    static func response(_ fields: [(String, String)], json: Bool) -> Response {
        if json {
            var object: [String: String] = [:]
            for (name, value) in fields { object[name] = value }
            return Response.json(object)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: FormEncoding.encode(fields)))
        )
    }
}
