import ArgumentParser
import CRMSink
import Foundation
import HTTPTypes
import Hummingbird

/// A webhook receiver for trying amibridge out and for CRM developers: prints every delivery it
/// gets, with its signature checked the way the CRM should check it.
struct ReceiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Listen for amibridge webhooks on 127.0.0.1 and print each one, signature checked."
    )

    @Option(help: "TCP port to listen on (0 picks a free one; the greeting line names it).")
    var port: Int = 8099

    @Option(help: "Environment variable holding the endpoint's secret (unset: signatures are not checked).")
    var secretEnv: String = "RECEIVE_SECRET"

    func run() async throws {
        let secret = ProcessInfo.processInfo.environment[secretEnv]
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let body = try await request.body.collect(upTo: 4 * 1024 * 1024)
            let bytes = Array(buffer: body)
            // One unbuffered write per delivery: a pipe or a file sees each line as it happens.
            Self.say(Self.describe(method: request.method.rawValue, uri: request.uri.description, headers: request.headers, body: bytes, secret: secret))
            return Response(status: .ok)
        }
        router.post("**", use: handler)
        router.get("**", use: handler)
        let checked = secret == nil ? "not checked: \(secretEnv) unset" : "checked"
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                Self.say("amibridge receive: listening on http://127.0.0.1:\(channel.localAddress?.port ?? port)/ (signatures \(checked))")
            }
        )
        try await app.runService()
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// One line per delivery: the verdict on the signature, the event, the delivery id, the body.
    static func describe(method: String, uri: String, headers: HTTPFields, body: [UInt8], secret: String?) -> String {
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
        let event = header(WebhookSignature.eventHeader) ?? "-"
        let delivery = header(WebhookSignature.deliveryHeader) ?? "-"
        var verdict = "unsigned"
        if let secret, let timestamp = header(WebhookSignature.timestampHeader).flatMap(Int.init),
           let signature = header(WebhookSignature.signatureHeader) {
            let expected = WebhookSignature.signature(secret: secret, timestamp: timestamp, body: body)
            verdict = constantTimeEquals(Array(expected.utf8), Array(signature.utf8)) ? "signature ok" : "SIGNATURE MISMATCH"
        }
        let text = method == "GET" ? uri : String(decoding: body, as: UTF8.self)
        return "\(verdict)  \(method) \(event)  delivery=\(delivery)  \(text)"
    }

    static func constantTimeEquals(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }
}
