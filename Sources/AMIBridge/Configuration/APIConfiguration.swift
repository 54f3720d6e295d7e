/// The HTTP API's settings (the `api.*` keys of `Config/amibridge.example.yaml`).
struct APIConfiguration: Sendable {
    /// `api.listen`. Default `127.0.0.1:8088`: loopback until the admin decides otherwise.
    var host = "127.0.0.1"
    var port = 8088
    /// `api.cors_origins`: origins browsers may call from (`*` for any). Default none.
    var corsOrigins: [String] = []
    /// `api.ip_allowlist`: CIDR blocks or addresses; empty allows every peer.
    var ipAllowlist: [IPAddressRange] = []
    /// `api.rate_limit_per_minute`: per API key. Default 100.
    var rateLimitPerMinute = 100
    /// `api.body_limit_bytes`: larger request bodies get 413. Default 1 MiB.
    var bodyLimitBytes = 1 << 20
    /// `api.recording_directories`: where `GET /v1/recordings/{id}/audio` may read files (and
    /// their mixing subdirectories); nothing outside them is ever served. Default ViciDial's.
    var recordingDirectories = ["/var/spool/asterisk/monitorDONE", "/var/spool/asterisk/monitor"]
    /// `state_dir`: holds `api_keys.sqlite3`. Default `/var/lib/amibridge`.
    var stateDirectory = "/var/lib/amibridge"
}
