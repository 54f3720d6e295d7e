import Configuration

extension ClickToCallConfiguration {
    /// Reads the `click_to_call` section of the YAML file at `path`, environment on top
    /// (`CLICK_TO_CALL_CONTEXT`, ...). A bad value fails naming its key.
    static func load(path: String?, environment: [String: String]? = nil) async throws -> ClickToCallConfiguration {
        try ClickToCallConfiguration(reader: try await ConfigReader.amibridge(path: path, environment: environment))
    }

    init(reader: ConfigReader) throws {
        let section = ConfigValues(reader: reader).scoped("click_to_call")
        server = try section.optionalString("server", default: nil)
        agentChannelTemplate = try section.string("agent_channel", default: agentChannelTemplate)
        guard agentChannelTemplate.contains("{extension}"), AgentChannel.isValid(agentChannelTemplate.replacingOccurrences(of: "{extension}", with: "1001")) else {
            throw ConfigurationError(key: section.path("agent_channel"), problem: "'\(agentChannelTemplate)' is not a channel with {extension}, such as SIP/{extension}")
        }
        context = try section.string("context", default: context)
        guard AMIName.isValid(context) else {
            throw ConfigurationError(key: section.path("context"), problem: "'\(context)' is not a dialplan context name")
        }
        dialPrefix = try section.string("dial_prefix", default: dialPrefix)
        guard dialPrefix.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "*" || $0 == "#") }) else {
            throw ConfigurationError(key: section.path("dial_prefix"), problem: "'\(dialPrefix)' is not digits, * or #")
        }
        callerID = try section.string("caller_id", default: callerID)
        guard callerID.isEmpty || CallerIDNumber.isValid(callerID) else {
            throw ConfigurationError(key: section.path("caller_id"), problem: "'\(callerID)' is not a caller ID number (digits, optional +)")
        }
        callerIDName = try section.string("caller_id_name", default: callerIDName)
        guard CallerIDNumber.isValidName(callerIDName) else {
            throw ConfigurationError(key: section.path("caller_id_name"), problem: "'\(callerIDName)' has characters a caller ID name cannot carry")
        }
        agentRingSeconds = try section.int("agent_ring_seconds", default: agentRingSeconds, range: 1...600)
        responseTimeoutSeconds = try section.int("response_timeout_seconds", default: responseTimeoutSeconds, range: 10...3600)
        statusRetentionMinutes = try section.int("status_retention_minutes", default: statusRetentionMinutes, range: 1...10_080)
        maximumRememberedCalls = try section.int("max_remembered_calls", default: maximumRememberedCalls, range: 100...10_000_000)
    }
}
