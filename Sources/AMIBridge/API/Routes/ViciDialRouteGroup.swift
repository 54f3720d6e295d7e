import EventMapper
import Hummingbird
import MariaDB
import ViciDial

/// A group of `/v1` routes served from ViciDial's database.
protocol ViciDialRouteGroup: Sendable {
    /// nil when `vicidial.db` is not configured.
    var vicidial: ViciDialRepository? { get }
}

extension ViciDialRouteGroup {
    /// Runs `body` with the repository. Without a configured database, and when MariaDB cannot be
    /// reached, the answer is 503: the request may succeed later, unlike a 500.
    func withRepository<Result>(_ body: (ViciDialRepository) async throws -> Result) async throws -> Result {
        guard let vicidial else {
            throw APIError(status: .serviceUnavailable, code: "database_not_configured", message: "no ViciDial database is configured (vicidial.db)")
        }
        do {
            return try await body(vicidial)
        } catch let error as MariaDBError where Self.unreachable.contains(error.code) || error.code.isConnectionLost {
            throw APIError(status: .serviceUnavailable, code: "database_unavailable", message: "the ViciDial database cannot be reached")
        }
    }

    private static var unreachable: Set<MariaDBError.Code> { [.socketConnectionFailed, .hostConnectionFailed, .connectionUnavailable] }
}

extension Request {
    /// The query parameter `name` (its first occurrence), decoded as a form: `+` is a space, as
    /// browsers and HTTP libraries write it (`?phone_number=%2B1+800+555+1234`); nil when absent.
    /// An empty value (`since=`) is a value, which the documented patterns refuse: a 400.
    func query(_ name: String) -> String? {
        guard let query = uri.query else { return nil }
        return FormEncoding.decode(Substring(query)).first { $0.name == name }?.value
    }
}
