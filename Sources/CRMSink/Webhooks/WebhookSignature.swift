import Crypto

/// The signature headers of a JSON delivery (documented for CRM developers in `README.md` here).
///
/// `X-AMIBridge-Signature: sha256=<hex>` is HMAC-SHA256, keyed with the endpoint's secret, of
/// `<X-AMIBridge-Timestamp> + "." + <body>`. Signing the timestamp lets receivers reject replays
/// of an old, captured request.
public enum WebhookSignature {
    public static let eventHeader = "X-AMIBridge-Event"
    public static let deliveryHeader = "X-AMIBridge-Delivery"
    public static let timestampHeader = "X-AMIBridge-Timestamp"
    public static let signatureHeader = "X-AMIBridge-Signature"

    /// `sha256=` and the lowercase hex HMAC of `timestamp.body`.
    public static func signature(secret: String, timestamp: Int, body: [UInt8]) -> String {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8)))
        hmac.update(data: Array("\(timestamp).".utf8))
        hmac.update(data: body)
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = Array("sha256=".utf8)
        for byte in hmac.finalize() {
            text += [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
        }
        return String(decoding: text, as: UTF8.self)
    }
}
