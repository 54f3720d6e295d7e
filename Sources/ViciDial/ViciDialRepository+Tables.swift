extension ViciDialRepository {
    /// Every ViciDial table the bridge reads, from the call join, the disposition watcher and the
    /// HTTP API. `deploy/mariadb-grants.sql` grants SELECT on exactly these and `amibridge check`
    /// probes each; a test fails when a statement reads a table missing here.
    public static let tablesRead = [
        "vicidial_log", "vicidial_closer_log", "vicidial_did_log", "vicidial_list", "recording_log", "vicidial_agent_log",
        "vicidial_campaign_statuses", "vicidial_statuses",
        // The HTTP API: agents' live status and phones (click-to-call), users.
        "vicidial_live_agents", "vicidial_users", "phones",
    ]

    /// The only table the bridge writes to: `POST /v1/leads` inserts leads.
    public static let tablesInserted = ["vicidial_list"]
}
