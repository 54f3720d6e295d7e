import Foundation

/// A CRM URL that receives webhooks: which events go there, in which format, signed with which
/// secret, and how hard to try.
public struct WebhookEndpoint: Sendable {
    public enum Format: String, Sendable, Hashable {
        /// POST of the JSON body, signed (see `Sources/CRMSink/README.md`).
        case json
        /// A ViciDial Dispo Call URL (`VARhttps://crm/x.php?lead=--A--lead_id--B--`), fetched with GET.
        case vicidialTemplate = "vicidial-template"
    }

    /// Validated settings of one endpoint. Defaults are documented per property.
    public struct Configuration: Sendable {
        /// Names the endpoint in logs, metrics, the outbox and config keys (`webhooks.<name>.url`).
        public var name: String
        /// An http(s) URL; for `vicidial-template` the template itself, `VAR` prefix allowed.
        public var url: String
        /// The events sent here. Default: all of them.
        public var events: Set<WebhookEvent.Name>
        /// Only events of these campaigns; empty (the default) means every campaign.
        public var campaigns: Set<String>
        public var format: Format
        /// HMAC-SHA256 key for `X-AMIBridge-Signature`; nil sends no signature (logged at start).
        public var secret: String?
        /// Whole request. Default 10 s.
        public var timeout: Duration
        /// TCP + TLS handshake. Default 5 s.
        public var connectTimeout: Duration
        /// Attempts before dead-lettering. Default 20.
        public var maxAttempts: Int
        /// Age (since the event entered the outbox) after which a failing delivery is dead-lettered. Default 24 h.
        public var maxAge: Duration
        /// First retry delay; doubles per attempt up to ``backoffCap``. Default 1 s.
        public var backoffInitial: Duration
        /// Default 5 min.
        public var backoffCap: Duration
        /// Verify the certificate chain and host name. Default true; off only for an operator who
        /// accepted a self-signed certificate (logged as a warning at every start).
        public var verifiesTLS: Bool
        /// Follow 3xx responses (at most 5, http/https only). Default false: a redirect is a
        /// configuration mistake to fix, and following it could send the signed body elsewhere.
        public var followsRedirects: Bool
        /// Send this endpoint one `call_complete` per call, once the agent's final disposition is
        /// known (or the wait for it ends), with `disposition` and `notes` filled, instead of
        /// `call_complete` at the hangup plus `disposition_set` later. Default false. For receivers
        /// that store one row per call (see `Sources/CRMSink/README.md`).
        public var waitsForDisposition: Bool

        /// Validates everything; the error names the key (`webhooks.<name>.<key>`) and the problem.
        public init(
            name: String,
            url: String,
            events: Set<WebhookEvent.Name> = Set(WebhookEvent.Name.allCases),
            campaigns: Set<String> = [],
            format: Format = .json,
            secret: String? = nil,
            timeout: Duration = .seconds(10),
            connectTimeout: Duration = .seconds(5),
            maxAttempts: Int = 20,
            maxAge: Duration = .seconds(86_400),
            backoffInitial: Duration = .seconds(1),
            backoffCap: Duration = .seconds(300),
            verifiesTLS: Bool = true,
            followsRedirects: Bool = false,
            waitsForDisposition: Bool = false
        ) throws(WebhookConfigurationError) {
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw WebhookConfigurationError(key: "webhooks.endpoints", problem: "'\(name)' must be letters, digits, '-' or '_'")
            }
            func key(_ suffix: String) -> String { "webhooks.\(name).\(suffix)" }
            switch format {
            case .json:
                if let problem = Self.urlProblem(url) { throw WebhookConfigurationError(key: key("url"), problem: problem) }
            case .vicidialTemplate:
                let template = ViciDialURLTemplate(url)
                if let problem = Self.urlProblem(template.base) { throw WebhookConfigurationError(key: key("url"), problem: problem) }
            }
            guard !events.isEmpty else { throw WebhookConfigurationError(key: key("events"), problem: "no events: the endpoint would receive nothing") }
            if waitsForDisposition, !events.contains(.callComplete) {
                throw WebhookConfigurationError(key: key("wait_for_disposition"), problem: "sends one call_complete per call: add call_complete to events")
            }
            if let secret, secret.isEmpty { throw WebhookConfigurationError(key: key("secret"), problem: "empty") }
            guard timeout > .zero else { throw WebhookConfigurationError(key: key("timeout_ms"), problem: "must be positive") }
            guard connectTimeout > .zero else { throw WebhookConfigurationError(key: key("connect_timeout_ms"), problem: "must be positive") }
            guard maxAttempts >= 1 else { throw WebhookConfigurationError(key: key("max_attempts"), problem: "must be at least 1") }
            guard maxAge > .zero else { throw WebhookConfigurationError(key: key("max_age_ms"), problem: "must be positive") }
            guard backoffInitial > .zero else { throw WebhookConfigurationError(key: key("backoff_initial_ms"), problem: "must be positive") }
            guard backoffCap >= backoffInitial else {
                throw WebhookConfigurationError(key: key("backoff_max_ms"), problem: "must be at least backoff_initial_ms")
            }
            self.name = name
            self.url = url
            self.events = events
            self.campaigns = campaigns
            self.format = format
            self.secret = secret
            self.timeout = timeout
            self.connectTimeout = connectTimeout
            self.maxAttempts = maxAttempts
            self.maxAge = maxAge
            self.backoffInitial = backoffInitial
            self.backoffCap = backoffCap
            self.verifiesTLS = verifiesTLS
            self.followsRedirects = followsRedirects
            self.waitsForDisposition = waitsForDisposition
        }

        /// Whether `event` goes to this endpoint.
        public func accepts(_ event: WebhookEvent) -> Bool {
            guard self.events.contains(event.name) else { return false }
            switch event.recipients {
            case .all: break
            case .notWaitingForDisposition: guard !self.waitsForDisposition else { return false }
            case .waitingForDisposition: guard self.waitsForDisposition else { return false }
            }
            guard !self.campaigns.isEmpty else { return true }
            return event.campaignID.map(self.campaigns.contains) ?? false
        }

        /// What is wrong with `url` as an endpoint, or nil.
        static func urlProblem(_ url: String) -> String? {
            guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
                return "'\(url)' is not a URL"
            }
            guard scheme == "http" || scheme == "https" else { return "'\(url)': the scheme must be http or https" }
            guard let host = components.host, !host.isEmpty else { return "'\(url)' has no host" }
            return nil
        }
    }
}

/// A bad endpoint setting, as one line naming the key: `webhooks.crm1.url: 'ftp://x' ...`.
public struct WebhookConfigurationError: Error, Sendable, CustomStringConvertible {
    public var key: String
    public var problem: String

    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String { "\(self.key): \(self.problem)" }
}
