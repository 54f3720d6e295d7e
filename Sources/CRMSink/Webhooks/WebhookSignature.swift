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
        Signer(secret: secret).signature(timestamp: timestamp, body: body)
    }

    /// An endpoint's HMAC with its key already absorbed: keying costs two SHA-256 blocks and a
    /// key copy, so a delivery thread keys once per secret and copies the keyed state (a value)
    /// for each request.
    public struct Signer: Sendable {
        public let secret: String
        private let keyed: HMAC<SHA256>

        public init(secret: String) {
            self.secret = secret
            self.keyed = HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8)))
        }

        /// Same bytes as ``WebhookSignature/signature(secret:timestamp:body:)``.
        public func signature(timestamp: Int, body: [UInt8]) -> String {
            var hmac = self.keyed
            var prefix = String(timestamp)
            prefix.append(".")
            prefix.withUTF8 { hmac.update(data: UnsafeRawBufferPointer($0)) }
            hmac.update(data: body)
            let digest = hmac.finalize()
            let hex: StaticString = "0123456789abcdef"
            return String(unsafeUninitializedCapacity: 7 + 2 * SHA256.byteCount) { text in
                var index = 0
                for byte in "sha256=".utf8 {
                    text[index] = byte
                    index += 1
                }
                hex.withUTF8Buffer { digits in
                    for byte in digest {
                        text[index] = digits[Int(byte >> 4)]
                        text[index + 1] = digits[Int(byte & 0xF)]
                        index += 2
                    }
                }
                return index
            }
        }
    }
}
