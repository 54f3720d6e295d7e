import CRMSink
import Foundation
import Logging

// The real outbox and dispatcher in a process of their own, for the crash-safety test, which
// kills it with SIGKILL mid-delivery and starts it again:
//
//     OutboxCrashHelper <outbox.sqlite3> <url> <events> <calls>
//
// Enqueues `events` events (unless the outbox already holds rows from an earlier run), spread
// round-robin over `calls` call keys, with event ids `00000000-0000-4000-8000-<index, 12 digits>`
// so the test knows every id to expect; prints "enqueued" once they are on disk; delivers until
// the outbox is empty; prints "drained" and exits 0.

let arguments = CommandLine.arguments
guard arguments.count == 5, let total = Int(arguments[3]), let calls = Int(arguments[4]), calls > 0 else {
    FileHandle.standardError.write(Data("usage: OutboxCrashHelper <outbox.sqlite3> <url> <events> <calls>\n".utf8))
    exit(2)
}
let outbox = try Outbox(path: arguments[1])
let endpoint = try WebhookEndpoint.Configuration(
    name: "receiver",
    url: arguments[2],
    secret: "crash-test-secret",
    timeout: .seconds(5),
    connectTimeout: .seconds(1),
    backoffInitial: .milliseconds(20),
    backoffCap: .milliseconds(200)
)

if try outbox.counts().isEmpty {
    let emitter = WebhookEmitter(outbox: outbox, endpoints: [endpoint])
    let events = (0..<total).map { index in
        WebhookEvent(
            name: index < total / 2 ? .callComplete : .dispositionSet,
            eventID: UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", index))!,
            callKey: "call-\(index % calls)",
            leadID: index
        )
    }
    // Several transactions, as a running bridge writes them.
    for batch in stride(from: 0, to: total, by: 50) {
        try emitter.emitBlocking(Array(events[batch..<min(batch + 50, total)]))
    }
}
FileHandle.standardOutput.write(Data("enqueued\n".utf8))

let dispatcher = WebhookDispatcher(
    outbox: outbox,
    endpoints: [endpoint],
    configuration: .init(workers: 4, pollInterval: .milliseconds(50)),
    logger: Logger(label: "outbox-crash-helper")
)
let delivering = Task { try await dispatcher.run() }
// Dead letters would count as done; the test's receiver never causes any.
while try outbox.counts().values.contains(where: { $0.contains { $0.key != .dead && $0.value > 0 } }) {
    try await Task.sleep(for: .milliseconds(20))
}
delivering.cancel()
try await delivering.value
FileHandle.standardOutput.write(Data("drained\n".utf8))
