import ArgumentParser
import CRMSink
import Foundation
import HTTPTypes
import Hummingbird

/// A webhook receiver for trying amibridge out and for CRM developers: prints every delivery it
/// gets, with its signature checked the way the CRM should check it. One readable line per
/// delivery by default (what a person watching the demo wants to see); `--json` prints the
/// whole body instead (what scripts and tests read).
struct ReceiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Listen for amibridge webhooks on 127.0.0.1 and print each one, signature checked."
    )

    @Option(help: "TCP port to listen on (0 picks a free one; the greeting line names it).")
    var port: Int = 8099

    @Option(help: "Environment variable holding the endpoint's secret (unset: signatures are not checked).")
    var secretEnv: String = "RECEIVE_SECRET"

    @Flag(help: "Print the signature verdict, event, delivery id and whole body of each delivery instead of a readable summary.")
    var json = false

    func run() async throws {
        let secret = ProcessInfo.processInfo.environment[secretEnv]
        let router = Router()
        let json = self.json
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let body = try await request.body.collect(upTo: 4 * 1024 * 1024)
            let bytes = Array(buffer: body)
            let delivery = ReceivedDelivery(method: request.method.rawValue, uri: request.uri.description, headers: request.headers, body: bytes, secret: secret)
            // One unbuffered write per delivery: a pipe or a file sees each line as it happens.
            Self.say(json ? delivery.rawLine : delivery.summaryLine(receivedAt: Date()))
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
        try await ListenFailure.exitOnFailure(setting: "--port", host: "127.0.0.1", port: port) { try await app.runService() }
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
