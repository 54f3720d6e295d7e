import Foundation

/// Turns a claimed delivery into the HTTP request for its endpoint: pure, so tests check headers
/// and signatures without a network.
enum WebhookRequest {
    static let userAgent = "amibridge/1"

    /// - Parameters:
    ///   - timestamp: Unix seconds of this attempt (what the signature covers).
    ///   - signer: the endpoint's keyed HMAC, if the caller keeps one; used only when its secret
    ///     is the endpoint's current one (a reload may have changed it).
    static func make(
        _ delivery: OutboxDelivery, endpoint: WebhookEndpoint.Configuration, timestamp: Int, signer: WebhookSignature.Signer? = nil
    ) -> CurlHTTPRequest {
        var headers: [(name: String, value: String)] = [
            ("User-Agent", userAgent),
            (WebhookSignature.eventHeader, delivery.event),
            (WebhookSignature.deliveryHeader, delivery.eventID.lowercaseText),
            (WebhookSignature.timestampHeader, String(timestamp)),
        ]
        let method: String
        let url: String
        if let requestURL = delivery.requestURL {
            method = "GET"
            url = requestURL
        } else {
            method = "POST"
            url = endpoint.url
            headers.insert(("Content-Type", "application/json"), at: 0)
            if let secret = endpoint.secret {
                let signer = signer?.secret == secret ? signer! : WebhookSignature.Signer(secret: secret)
                headers.append((WebhookSignature.signatureHeader, signer.signature(timestamp: timestamp, body: delivery.body)))
            }
        }
        return CurlHTTPRequest(
            method: method,
            url: url,
            headers: headers,
            body: delivery.body,
            connectTimeout: endpoint.connectTimeout,
            timeout: endpoint.timeout,
            verifiesTLS: endpoint.verifiesTLS,
            followsRedirects: endpoint.followsRedirects
        )
    }
}
