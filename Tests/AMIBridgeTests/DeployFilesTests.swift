@testable import EventMapper
import Foundation
import MariaDB
import Testing
import ViciDial

/// deploy/ stays in step with the code: the grants cover exactly the tables the code reads, and
/// the manager.conf filters let through exactly the events the call tracker reads.
@Suite("deploy/ files")
struct DeployFilesTests {
    static let root = DaemonProcessTests.exampleConfig.deletingLastPathComponent().deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    static func matches(_ pattern: String, in text: String) throws -> [[String]] {
        let expression = try NSRegularExpression(pattern: pattern)
        return expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            (1..<match.numberOfRanges).compactMap { Range(match.range(at: $0), in: text).map { String(text[$0]) } }
        }
    }

    @Test("mariadb-grants.sql: SELECT on exactly the tables read, INSERT on vicidial_list only, nothing else")
    func grants() throws {
        let sql = try Self.text("deploy/mariadb-grants.sql")
        let statements = sql.split(separator: "\n").filter { $0.hasPrefix("GRANT") }.map(String.init)
        let granted = try statements.flatMap { try Self.matches(#"^GRANT (\w+) ON `asterisk`\.`(\w+)` TO 'amibridge'@'localhost';$"#, in: $0) }
        #expect(granted.count == statements.count, "a GRANT of another shape: \(statements)")
        #expect(Set(granted.filter { $0[0] == "SELECT" }.map { $0[1] }) == Set(ViciDialRepository.tablesRead))
        #expect(granted.filter { $0[0] == "INSERT" }.map { $0[1] } == ViciDialRepository.tablesInserted)
        #expect(granted.allSatisfy { ["SELECT", "INSERT"].contains($0[0]) })
    }

    @Test("every ViciDial table a statement in the code reads is in tablesRead (and so granted and checked)")
    func tablesInCode() throws {
        let sources = Self.root.appendingPathComponent("Sources")
        let enumerator = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        var tables: Set<String> = []
        for case let file as URL in enumerator where file.pathExtension == "swift" {
            // The bridge's own SQLite files (outbox, API keys) are not ViciDial's, and the simulator
            // writes ViciDial's tables as ViciDial does (as root), not as the bridge.
            guard !file.path.contains("/CRMSink/"), !file.path.contains("/API/Keys/"), !file.path.contains("/DialerSimulator/") else { continue }
            // Code only: comments speak of joins too.
            let text = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
                .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.joined(separator: "\n")
            let names = try Self.matches(#"\b(?:FROM|JOIN|INTO|UPDATE)\s+`?([a-z][a-z_]*)`?"#, in: text).map { $0[0] }
            let commonTableExpressions = try Self.matches(#"\b([a-z_]+) AS \("#, in: text).map { $0[0] }
            // information_schema is readable by every user (the lead import asks it for the engine).
            tables.formUnion(Set(names).subtracting(commonTableExpressions).subtracting(["information_schema"]))
        }
        #expect(!tables.isEmpty)
        #expect(tables.isSubset(of: Set(ViciDialRepository.tablesRead)), "not in tablesRead: \(tables.subtracting(ViciDialRepository.tablesRead))")
        // The fixture schema has them all, so the private MariaDB grants them and check passes.
        let schema = try Self.text("Tests/Fixtures/vicidial-schema.sql")
        for table in ViciDialRepository.tablesRead {
            #expect(schema.contains("CREATE TABLE IF NOT EXISTS \(table) ("), "\(table)")
        }
    }

    @Test("manager.conf.snippet: the event filters pass every event the tracker reads and drop the chatter")
    func eventFilters() throws {
        let snippet = try Self.text("deploy/manager.conf.snippet")
        let filters = try snippet.split(separator: "\n").filter { $0.hasPrefix("eventfilter = ") }.map {
            // POSIX extended regex as ICU spells it: classes, and "." matching line ends too.
            try NSRegularExpression(
                pattern: String($0.dropFirst("eventfilter = ".count)).replacingOccurrences(of: "[[:space:]]", with: #"\s"#),
                options: .dotMatchesLineSeparators
            )
        }
        func passes(_ event: String) -> Bool {
            filters.contains { $0.firstMatch(in: event, range: NSRange(event.startIndex..., in: event)) != nil }
        }
        // What ChannelEvent and the connection read: the tracker's own list of event names.
        let read = Set(ChannelEvent.Kind.allCases.map(\.eventName)).subtracting(["CoreShowChannel", "VarSet", "Cdr"]).union(["Shutdown"])
        #expect(read.count > 15)
        for name in read {
            #expect(passes("Event: \(name)\r\nPrivilege: call,all\r\nUniqueid: 1.1\r\n"), "\(name) is filtered out")
        }
        #expect(passes("Event: VarSet\r\nPrivilege: dialplan,all\r\nChannel: Local/1@x\r\nVariable: CRM_CALL_ID\r\nValue: c2c-1\r\n"))
        for dropped in ["Newexten", "DeviceStateChange", "RTCPSent", "DialState", "BridgeCreate", "Cdr", "VarSetX", "HangupHandlerRun"] {
            #expect(!passes("Event: \(dropped)\r\nPrivilege: call,all\r\n"), "\(dropped) passes")
        }
        #expect(!passes("Event: VarSet\r\nPrivilege: dialplan,all\r\nVariable: BRIDGEPEER\r\nValue: x\r\n"))
        // Originate, Hangup and the CoreShowChannels sent after every login; nothing more.
        #expect(snippet.contains("\nwrite = originate,call,reporting\n"))
        #expect(snippet.contains("\nread = system,call,user,dialplan\n"))
    }
}
