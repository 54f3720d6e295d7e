import ArgumentParser
import Foundation
import Logging
import NIOCore

/// A listening address that could not be taken (in use, not this host's, a privileged port),
/// told as one line naming the setting, instead of NIO's `bind(descriptor:ptr:bytes:)` text.
struct ListenFailure: CustomStringConvertible {
    /// The setting that chose the address: `api.listen`, `--port`.
    let setting: String
    let address: String
    let reason: String

    var description: String { "\(setting) \(address): cannot listen (\(reason))" }

    /// `error` told as a listen failure when it is one; nil for any other error.
    init?(_ error: any Error, setting: String, host: String, port: Int) {
        guard let io = error as? IOError, Self.bindErrors.contains(io.errnoCode) else { return nil }
        self.setting = setting
        self.address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        self.reason = String(cString: strerror(io.errnoCode))
    }

    private static let bindErrors: Set<Int32> = [EADDRINUSE, EADDRNOTAVAIL, EACCES]

    /// Runs `body`. A bind error it throws ends the process: one line on stderr (and a critical
    /// log line, for those who read only the journal), then exit EX_UNAVAILABLE (sysexits.h), as a
    /// start that finds its port taken should; systemd's `Restart=on-failure` tries again. Any other
    /// error goes on as it was.
    static func exitOnFailure(
        setting: String, host: String, port: Int, logger: Logger? = nil, _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
        } catch {
            guard let failure = ListenFailure(error, setting: setting, host: host, port: port) else { throw error }
            logger?.critical("cannot listen; stopping", metadata: ["error": "\(failure)"])
            FileHandle.standardError.write(Data("amibridge: \(failure)\n".utf8))
            throw ExitCode(69)
        }
    }
}
