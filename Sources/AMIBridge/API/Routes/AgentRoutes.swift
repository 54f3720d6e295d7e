import EventMapper
import Foundation
import Hummingbird
import ViciDial

/// `GET /v1/agents/{user}`: an agent's live ViciDial state and today's calls and talk time, so
/// a CRM can show who is free before it places a call.
struct AgentRoutes: ViciDialRouteGroup {
    var vicidial: ViciDialRepository?

    func register(on group: RouterGroup<APIRequestContext>) {
        group.get("agents/{user}") { request, context in try await agent(request, context) }
    }

    func agent(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try Self.validatedUser(context.parameters.get("user"))
        let status = try await withRepository { try await $0.agentStatus(user: user) }
        guard let status else { throw APIError.notFound("no ViciDial user \(user)") }
        return Response.json(AgentBody(status))
    }

    /// ViciDial user names: ASCII letters, digits and `_-.@`, at most 20 characters
    /// (`vicidial_users.user` is VARCHAR(20)).
    static func validatedUser(_ raw: String?) throws -> String {
        let user = raw.flatMap { $0.removingPercentEncoding } ?? ""
        guard AMIName.isViciDialUser(user) else {
            throw APIError.invalidRequest("user must be 1-20 letters, digits, _, -, . or @")
        }
        return user
    }

    /// The answer: every key always present, `null` when ViciDial has no value (logged out,
    /// no lead on screen, not paused).
    struct AgentBody: Encodable, Sendable {
        struct Today: Encodable, Sendable {
            var date: String
            var calls: Int64
            var talkSeconds: Int64

            enum CodingKeys: String, CodingKey {
                case date, calls
                case talkSeconds = "talk_seconds"
            }
        }

        var user: String
        @NullEncoded var fullName: String?
        var status: String
        var loggedIn: Bool
        @NullEncoded var campaignID: String?
        @NullEncoded var leadID: Int64?
        @NullEncoded var pauseCode: String?
        @NullEncoded var callsToday: Int64?
        @NullEncoded var lastStateChange: String?
        @NullEncoded var serverIP: String?
        @NullEncoded var phone: String?
        var today: Today

        init(_ status: ViciDialAgentStatus) {
            user = status.user
            fullName = status.fullName
            self.status = status.status
            loggedIn = status.live != nil
            campaignID = status.live?.campaignID
            leadID = status.live?.leadID
            pauseCode = status.live?.pauseCode
            callsToday = status.live?.callsToday
            lastStateChange = status.live?.lastStateChange
            serverIP = status.live?.serverIP
            phone = status.live?.phoneChannel
            today = Today(date: status.today, calls: status.callsToday, talkSeconds: status.talkSecondsToday)
        }

        enum CodingKeys: String, CodingKey {
            case user, status, today, phone
            case fullName = "full_name"
            case loggedIn = "logged_in"
            case campaignID = "campaign_id"
            case leadID = "lead_id"
            case pauseCode = "pause_code"
            case callsToday = "calls_today"
            case lastStateChange = "last_state_change"
            case serverIP = "server_ip"
        }
    }
}
