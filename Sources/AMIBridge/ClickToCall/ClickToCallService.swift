import AMIProtocol
import EventMapper
import Foundation
import Logging
import ViciDial

/// Places click-to-calls (AMI `Originate`) and hangs them up. The call's progress comes back
/// through the tracker's updates into the ``ClickToCallRegistry``.
///
/// An Originate is shaped like ViciDial's manual dial: the agent's phone rings first
/// (`Channel`), and once it answers Asterisk runs `context,<dial prefix><number>,1` to dial the
/// customer. The call id travels as the `CRM_CALL_ID` channel variable and in the ActionID, so
/// every leg, the `OriginateResponse` and the webhooks carry it.
struct ClickToCallService: Sendable {
    /// Where an agent user's phone is (from `vicidial_users.phone_login` → `phones`).
    struct AgentPhone: Sendable, Hashable {
        var channel: String
        /// The ViciDial server the phone is registered on; picks the AMI server with that host.
        var serverIP: String?
    }

    typealias AgentPhoneLookup = @Sendable (_ user: String) async throws -> AgentPhone?

    /// The lookup through ViciDial's tables (`vicidial_users.phone_login` → `phones`).
    static func agentPhoneLookup(_ vicidial: ViciDialRepository) -> AgentPhoneLookup {
        { user in
            guard let phone = try await vicidial.agentPhone(user: user) else { return nil }
            return AgentPhone(channel: phone.channel, serverIP: phone.serverIP.isEmpty ? nil : phone.serverIP)
        }
    }

    let configuration: ClickToCallConfiguration
    let registry: ClickToCallRegistry
    let tracking: CallTrackingService
    let servers: [AMIClient]
    /// Nil without a ViciDial database: then only `agent_phone` works.
    let lookUpAgentPhone: AgentPhoneLookup?
    let logger: Logger
    var now: @Sendable () -> Date = { Date() }

    /// The channel variable the tracker reads the call id from.
    static let callIDVariable = ClickToCallStage.callIDVariable

    /// Places the call, or answers with the call an identical earlier request (same
    /// `Idempotency-Key` from the same API key) placed. `created` is false for the latter.
    func place(_ request: ClickToCallRequest, idempotencyKey: String?) async throws(APIError) -> (call: ClickToCallStatus, created: Bool) {
        let callID: String
        switch registry.reserve(request, idempotencyKey: idempotencyKey) {
        case .existing(let call):
            return (call, false)
        case .conflict(let earlier):
            throw APIError(status: .conflict, code: "idempotency_key_reused",
                           message: "this Idempotency-Key was used for a different request (call \(earlier))")
        case .new(let id):
            callID = id
        }
        do {
            return (try await originate(request, callID: callID), true)
        } catch {
            registry.discard(callID)
            throw error
        }
    }

    private func originate(_ request: ClickToCallRequest, callID: String) async throws(APIError) -> ClickToCallStatus {
        let (agentChannel, agentUser, serverIP) = try await resolveAgent(request.agent)
        let client = try pickServer(serverIP: serverIP)
        guard case .loggedIn = client.status else {
            throw APIError(status: .serviceUnavailable, code: "ami_unavailable", message: "AMI server '\(client.configuration.name)' is not logged in")
        }
        let server = client.configuration.name
        let created = now()
        let actionID = "c2c-\(callID)"
        let action = AMIAction.originate(
            channel: agentChannel,
            context: configuration.context,
            exten: configuration.dialPrefix + request.phoneNumber.digits,
            timeout: .seconds(configuration.agentRingSeconds),
            callerID: callerID(for: request, at: created),
            variables: [(Self.callIDVariable, callID)] + request.variables.map { ($0.name, $0.value) }
        )
        var call = ClickToCallStatus(
            callID: callID, status: .queued, agentUser: agentUser, agentChannel: agentChannel,
            phoneNumber: request.phoneNumber.description, campaignID: request.campaignID, leadID: request.leadID,
            listID: request.listID, server: server, createdAt: created, updatedAt: created, stages: [ClickToCallStage.queued.rawValue: created]
        )
        // Known to the registry and the tracker before a byte is written: the first Newchannel
        // can arrive before the Originate's response.
        registry.insert(call)
        tracking.originateSent(server: server, actionID: actionID, callID: callID, channel: agentChannel)
        let response: AMIResponse
        do {
            response = try await client.send(action, actionID: actionID, timeout: .seconds(10))
        } catch let error as AMIError where error.code == .notConnected {
            tracking.forgetOriginate(server: server, actionID: actionID)
            throw APIError(status: .serviceUnavailable, code: "ami_unavailable", message: "AMI server '\(server)' is not connected")
        } catch {
            // Written, fate unknown (timeout, connection lost): the tracker follows it, and its
            // OriginateResponse or the response timeout decides.
            logger.warning("Originate sent without a response; following the call", metadata: [
                "call_id": "\(callID)", "server": "\(server)", "error": "\(error)",
            ])
            return call
        }
        guard response.isSuccess else {
            let message = response.message["Message"] ?? "no message"
            logger.warning("Asterisk refused an Originate", metadata: ["call_id": "\(callID)", "server": "\(server)", "error": "\(message)"])
            await tracking.originateRejected(server: server, actionID: actionID)
            throw APIError(status: .badGateway, code: "originate_rejected", message: "Asterisk refused the Originate: \(message) (call \(callID))")
        }
        logger.info("click-to-call queued", metadata: [
            "call_id": "\(callID)", "server": "\(server)", "agent_user": "\(agentUser ?? "")", "phone_number": "\(request.phoneNumber)",
        ])
        call = registry.status(callID) ?? call
        return call
    }

    /// Hangs up every live channel of the call.
    func hangUp(_ callID: String) async throws(APIError) -> ClickToCallStatus {
        guard let call = registry.status(callID) else {
            throw APIError(status: .notFound, code: "not_found", message: "no click-to-call \(callID)")
        }
        guard !call.status.isFinal else {
            throw APIError(status: .conflict, code: "call_ended", message: "the call has already ended (\(call.status.rawValue))")
        }
        // No channel yet: the hangup goes out as soon as the first one appears
        // (``ClickToCallRegistry/apply(_:)`` hands it to ``sendDeferredHangups(_:servers:logger:)``).
        var channels: [String] = []
        let updated = registry.update(callID) { call in
            call.hangupRequested = true
            guard !call.liveChannels.isEmpty, !call.hangupSent else { return }
            call.hangupSent = true
            channels = call.liveChannels
        } ?? call
        guard !channels.isEmpty else {
            logger.info("click-to-call hangup requested before its first channel; deferred", metadata: ["call_id": "\(callID)"])
            return updated
        }
        do {
            try await Self.hangUp(channels, on: call.server, servers: servers)
        } catch {
            _ = registry.update(callID) { $0.hangupSent = false }
            throw APIError(status: .serviceUnavailable, code: "ami_unavailable", message: "AMI server '\(call.server)': \(error)")
        }
        logger.info("click-to-call hangup requested", metadata: ["call_id": "\(callID)", "channels": "\(channels.count)"])
        return updated
    }

    /// Sends the hangups that waited for a call's first channel.
    static func sendDeferredHangups(_ hangups: [ClickToCallRegistry.DeferredHangup], servers: [AMIClient], logger: Logger) async {
        for hangup in hangups {
            do {
                try await hangUp(hangup.channels, on: hangup.server, servers: servers)
                logger.info("click-to-call hangup sent once the call had a channel", metadata: ["call_id": "\(hangup.callID)"])
            } catch {
                logger.error("could not hang up a click-to-call", metadata: ["call_id": "\(hangup.callID)", "error": "\(error)"])
            }
        }
    }

    /// A Hangup per channel. "No such channel" is fine: its partner's hangup may have taken it.
    private static func hangUp(_ channels: [String], on server: String, servers: [AMIClient]) async throws {
        guard let client = servers.first(where: { $0.configuration.name == server }) else {
            throw AMIError(.notConnected, "AMI server '\(server)' is not configured")
        }
        for channel in channels {
            _ = try await client.send(.hangup(channel: channel), timeout: .seconds(10))
        }
    }

    private func resolveAgent(_ agent: ClickToCallRequest.Agent) async throws(APIError) -> (channel: String, user: String?, serverIP: String?) {
        switch agent {
        case .phone(let phone):
            let channel = AgentChannel.isValid(phone) ? phone : configuration.agentChannelTemplate.replacingOccurrences(of: "{extension}", with: phone)
            return (channel, nil, nil)
        case .user(let user):
            guard let lookUpAgentPhone else {
                throw APIError(status: .serviceUnavailable, code: "database_not_configured",
                               message: "agent_user needs the ViciDial database (vicidial.db); give agent_phone instead")
            }
            let phone: AgentPhone?
            do {
                phone = try await lookUpAgentPhone(user)
            } catch {
                logger.error("agent phone lookup failed", metadata: ["agent_user": "\(user)", "error": "\(error)"])
                throw APIError(status: .serviceUnavailable, code: "database_unavailable", message: "the ViciDial database did not answer")
            }
            guard let phone, AgentChannel.isValid(phone.channel) else {
                throw APIError(status: .notFound, code: "unknown_agent", message: "agent_user '\(user)' has no phone in ViciDial (vicidial_users.phone_login → phones)")
            }
            return (phone.channel, user, phone.serverIP)
        }
    }

    private func pickServer(serverIP: String?) throws(APIError) -> AMIClient {
        if let serverIP, let client = servers.first(where: { $0.configuration.host == serverIP }) { return client }
        if let name = configuration.server {
            guard let client = servers.first(where: { $0.configuration.name == name }) else {
                throw APIError(status: .serviceUnavailable, code: "ami_unavailable", message: "click_to_call.server '\(name)' is not an AMI server")
            }
            return client
        }
        guard let first = servers.first else {
            throw APIError(status: .serviceUnavailable, code: "ami_unavailable", message: "no AMI server is configured")
        }
        return first
    }

    /// `"M<caller code>" <number>` when a lead is known, so ViciDial's reports and the bridge's
    /// own join find the call; else the configured name.
    private func callerID(for request: ClickToCallRequest, at date: Date) -> String? {
        let number = request.callerID ?? configuration.callerID
        let name = request.leadID.flatMap { ViciDialCallerCode.manualDial(leadID: $0, at: date)?.code } ?? configuration.callerIDName
        return number.isEmpty ? "\"\(name)\"" : "\"\(name)\" <\(number)>"
    }
}
