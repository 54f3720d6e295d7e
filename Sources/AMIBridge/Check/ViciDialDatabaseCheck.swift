import EventMapper
import MariaDB
import ViciDial

extension DependencyCheck {
    /// Logs in, then runs a prepared `SELECT 1 FROM <table> LIMIT ?` on every table the bridge
    /// reads (``ViciDialRepository/tablesRead``): one line for the login and one per table, so a
    /// missing grant names its table. Reads no data and writes nothing.
    static func vicidialDatabase(_ configuration: MariaDBConnection.Configuration) -> DependencyCheck {
        DependencyCheck(name: "vicidial_db", lines: {
            let client = MariaDBClient(configuration: configuration)
            var lines: [NamedOutcome] = []
            do {
                let start = ContinuousClock.now
                let version = try await client.query("SELECT VERSION() AS version").first?.string("version") ?? "?"
                let elapsed = ContinuousClock.now - start
                let database = configuration.database.map { "/\($0)" } ?? ""
                lines.append(("vicidial_db", .passed(
                    "logged in as \(configuration.username) to \(configuration.endpoint.text)\(database) (MariaDB \(version)) in \(elapsed.millisecondsText)"
                )))
            } catch {
                return [("vicidial_db", .failed(Self.describe(error)))]
            }
            for table in ViciDialRepository.tablesRead {
                do {
                    _ = try await client.query("SELECT 1 FROM `\(table)` LIMIT ?", [1])
                    lines.append(("vicidial_db:\(table)", .passed("SELECT allowed")))
                } catch {
                    lines.append(("vicidial_db:\(table)", .failed(Self.describe(error))))
                }
            }
            try? await client.close()
            return lines
        })
    }

    /// MariaDB's own words and its error number, without the statement.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? MariaDBError else { return "\(error)" }
        return "\(error.message) (MariaDB error \(error.code))"
    }
}

extension MariaDBConnection.Configuration.Endpoint {
    var text: String {
        switch self {
        case .tcp(let host, let port): "\(host):\(port)"
        case .unixSocket(let path): path
        }
    }
}
