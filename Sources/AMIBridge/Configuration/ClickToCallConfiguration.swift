import ViciDial
/// How click-to-call places its calls (the `click_to_call.*` keys of
/// `Config/amibridge.example.yaml`). The defaults dial like ViciDial's manual dial on a stock box.
struct ClickToCallConfiguration: Sendable {
    /// `click_to_call.server`: the AMI server that originates when the agent's phone names no
    /// server of its own. Default: the first server.
    var server: String?
    /// `click_to_call.agent_channel`: the channel for an `agent_phone` given as a bare extension;
    /// `{extension}` is replaced. Default `SIP/{extension}`.
    var agentChannelTemplate = "SIP/{extension}"
    /// `click_to_call.context`: where the customer is dialed once the agent answers. Default `default`.
    var context = "default"
    /// `click_to_call.dial_prefix`: put before the customer's digits in `Exten`. Default none.
    var dialPrefix = ""
    /// `click_to_call.caller_id`: the number the customer sees unless the request gives one.
    var callerID = ""
    /// `click_to_call.caller_id_name`: shown when the call carries no ViciDial caller code.
    var callerIDName = "amibridge"
    /// `click_to_call.agent_ring_seconds`: the Originate's `Timeout`, how long the agent's phone
    /// rings. Default 30.
    var agentRingSeconds = 30
    /// `click_to_call.response_timeout_seconds`: an Originate with no `OriginateResponse` after
    /// this long fails with `timeout`. Default 180.
    var responseTimeoutSeconds = 180
    /// `click_to_call.status_retention_minutes`: how long `GET /v1/calls/{id}` and an
    /// `Idempotency-Key` remember a call. Default 1440 (a day).
    var statusRetentionMinutes = 1440
    /// `click_to_call.max_remembered_calls`: the most calls remembered at once (memory bound).
    var maximumRememberedCalls = 100_000
}
