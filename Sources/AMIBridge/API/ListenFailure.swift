import ArgumentParser
import Foundation
import NIOCore

/// A listening address that could not be taken (in use, not this host's, a privileged port),
/// told as one line naming the setting, instead of NIO's `bind(descriptor:ptr:bytes:)` text.
struct ListenFailure: Error, CustomStringConvertible {
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

    /// Runs `body`, telling a bind error it throws as a ``ListenFailure``.
    static func naming(setting: String, host: String, port: Int, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            if let failure = ListenFailure(error, setting: setting, host: host, port: port) { throw failure }
            throw error
        }
    }

    /// Writes the failure to stderr as one line; the exit that ends the process with
    /// EX_UNAVAILABLE (sysexits.h), as a start that finds its port taken should.
    func exit() -> ExitCode {
        FileHandle.standardError.write(Data("amibridge: \(self)\n".utf8))
        return ExitCode(69)
    }
}
