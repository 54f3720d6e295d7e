import EventMapper
import ViciDial

/// The body of `POST /v1/calls`, as sent (snake_case JSON; every field optional here so a missing
/// one is a 400 naming it rather than a decoding error).
struct ClickToCallRequestBody: Decodable, Sendable {
    var agent_user: String?
    var agent_phone: String?
    var phone_number: String?
    var campaign_id: String?
    var lead_id: Int?
    var list_id: Int?
    var caller_id: String?
    var variables: [String: String]?
}

/// A click-to-call request that passed validation: every value is safe to put in an Originate.
struct ClickToCallRequest: Sendable, Hashable {
    enum Agent: Sendable, Hashable {
        /// A ViciDial user, whose phone is looked up (`vicidial_users.phone_login` → `phones`).
        case user(String)
        /// A channel (`SIP/1001`) or a bare extension for the configured template.
        case phone(String)
    }

    var agent: Agent
    var phoneNumber: PhoneNumber
    var campaignID: String?
    var leadID: Int?
    /// Not dialled with: carried into the call's webhooks (ViciDial's `list_id`).
    var listID: Int?
    var callerID: String?
    /// Sorted by name, so the Originate (and an idempotency fingerprint) is the same every time.
    var variables: [(name: String, value: String)]

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.agent == rhs.agent && lhs.phoneNumber == rhs.phoneNumber && lhs.campaignID == rhs.campaignID
            && lhs.leadID == rhs.leadID && lhs.listID == rhs.listID && lhs.callerID == rhs.callerID
            && lhs.variables.elementsEqual(rhs.variables) { $0.name == $1.name && $0.value == $1.value }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(agent)
        hasher.combine(phoneNumber)
        hasher.combine(campaignID)
        hasher.combine(leadID)
        hasher.combine(listID)
        hasher.combine(callerID)
        for variable in variables { hasher.combine(variable.name); hasher.combine(variable.value) }
    }

    /// The variable that carries the click-to-call id on the call's channels; a request may not set it.
    static let reservedVariables: Set<String> = [ClickToCallStage.callIDVariable]
    static let variableSeparators: Set<Character> = [",", "\"", "\\"]

    /// Checks every field; the error names the first bad one.
    init(_ body: ClickToCallRequestBody) throws(APIError) {
        switch (body.agent_user, body.agent_phone) {
        case (_?, _?):
            throw Self.invalid("agent_user", "give agent_user or agent_phone, not both")
        case (nil, let phone?):
            guard AgentChannel.isValid(phone) || AgentChannel.isExtension(phone) else {
                throw Self.invalid("agent_phone", "must be a channel such as SIP/1001 or an extension such as 1001")
            }
            agent = .phone(phone)
        case (let user?, nil):
            guard AMIName.isViciDialUser(user) else {
                throw Self.invalid("agent_user", "must be a ViciDial user name (letters, digits, _-.@, at most 20)")
            }
            agent = .user(user)
        case (nil, nil):
            throw Self.invalid("agent_user", "agent_user or agent_phone is required")
        }
        guard let number = body.phone_number else { throw Self.invalid("phone_number", "is required") }
        guard let phoneNumber = PhoneNumber(number) else {
            throw Self.invalid("phone_number", "must be 7 to 15 digits with an optional leading +; spaces, dashes, dots and parentheses are ignored")
        }
        self.phoneNumber = phoneNumber
        if let campaign = body.campaign_id {
            guard AMIName.isValid(campaign, maximumLength: 20) else { throw Self.invalid("campaign_id", "must be letters, digits, _-.@ (at most 20)") }
        }
        campaignID = body.campaign_id
        if let lead = body.lead_id {
            guard (1...9_999_999_999).contains(lead) else { throw Self.invalid("lead_id", "must be a positive ViciDial lead_id") }
        }
        leadID = body.lead_id
        if let list = body.list_id {
            guard (1...99_999_999_999_999).contains(list) else { throw Self.invalid("list_id", "must be a positive ViciDial list_id") }
        }
        listID = body.list_id
        if let callerID = body.caller_id {
            guard CallerIDNumber.isValid(callerID) else { throw Self.invalid("caller_id", "must be digits with an optional leading +") }
        }
        callerID = body.caller_id
        let given = body.variables ?? [:]
        guard given.count <= 20 else { throw Self.invalid("variables", "at most 20 variables") }
        variables = try given.sorted { $0.key < $1.key }.map { name, value throws(APIError) in
            guard AMIName.isVariableName(name), !Self.reservedVariables.contains(name.uppercased()) else {
                throw Self.invalid("variables", "'\(name.prefix(64))' is not a channel variable name the API may set")
            }
            guard value.utf8.count <= 256, value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw Self.invalid("variables", "the value of \(name) is over 256 bytes or has control characters")
            }
            // Asterisk splits each Originate `Variable:` header at commas, honouring quotes and
            // backslashes: "A,CRM_CALL_ID=x" would set a second, reserved variable.
            guard !value.contains(where: Self.variableSeparators.contains) else {
                throw Self.invalid("variables", "the value of \(name) has a comma, a double quote or a backslash (Asterisk reads them as separators)")
            }
            return (name, value)
        }
    }

    static func invalid(_ field: String, _ problem: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_request", message: "\(field): \(problem)")
    }
}
