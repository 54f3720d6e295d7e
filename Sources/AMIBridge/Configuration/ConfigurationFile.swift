import Configuration
import Foundation
import NIOConcurrencyHelpers

/// The YAML configuration file as a list of its keys, read before any value so that a missing
/// file, a directory, random bytes, a syntax error or an empty file each fail with one line
/// naming the file, and so that a key nobody reads (a typo such as `ami.hots`) can be named
/// instead of being silently ignored.
struct ConfigurationFile {
    let path: String
    /// Every leaf key of the file, dot-separated (`ami.port`, `webhooks.crm1.url`).
    let keys: Set<String>

    init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigurationError(key: path, problem: "no such configuration file")
        }
        guard !isDirectory.boolValue else {
            throw ConfigurationError(key: path, problem: "is a directory, not a configuration file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: path, problem: "cannot read the configuration file (permissions?)")
        }
        guard String(data: data, encoding: .utf8) != nil else {
            throw ConfigurationError(key: path, problem: "is not a text (UTF-8) file")
        }
        let bytes = Array(data)
        guard bytes.contains(where: { !(" \t\r\n".utf8.contains($0)) }) else {
            throw ConfigurationError(key: path, problem: "the configuration file is empty")
        }
        keys = try Self.keys(of: bytes, path: path)
    }

    /// The file's keys from swift-configuration's own YAML parse, so this list and the values read
    /// later never disagree. Every value is marked secret for this parse: the listing below shows
    /// `<REDACTED>` in place of each value, never the value.
    private static func keys(of bytes: [UInt8], path: String) throws -> Set<String> {
        let snapshot: YAMLSnapshot
        do {
            snapshot = try YAMLSnapshot(data: bytes.span.bytes, providerName: "file", parsingOptions: .init(secretsSpecifier: .all))
        } catch {
            throw ConfigurationError(key: path, problem: "not a YAML mapping of keys: \(Self.firstLine(of: error))")
        }
        // `file[N values: a.b=<REDACTED>, c=<REDACTED>]`: the public listing of a snapshot.
        let listing = String(reflecting: snapshot)
        guard let open = listing.range(of: " values: "), listing.hasSuffix("]") else { return [] }
        let body = listing[open.upperBound..<listing.index(before: listing.endIndex)]
        let redacted = "=<REDACTED>"
        return Set(body.components(separatedBy: redacted + ", ").map { entry in
            entry.hasSuffix(redacted) ? String(entry.dropLast(redacted.count)) : entry
        }.filter { !$0.isEmpty })
    }

    /// A parser's error on one line, without the quoted file excerpt that may follow (it could
    /// hold a secret someone put in the file).
    static func firstLine(of error: any Error) -> String {
        let text = "\(error)".split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }

    /// Fails naming the first key of the file that `known` (the keys the configuration read)
    /// does not contain, with the nearest known key as a suggestion.
    func checkNoUnknownKeys(known: Set<String>) throws {
        let unknown = keys.subtracting(known).sorted()
        guard let first = unknown.first else { return }
        // `port: {a: 1}` reads as `ami.port.a`; `ami: 5` as a value where a section belongs.
        if let value = known.sorted().first(where: { first.hasPrefix($0 + ".") }) {
            throw ConfigurationError(key: value, problem: "has nested keys (\(first)); a single value or list belongs here")
        }
        if let inner = known.sorted().first(where: { $0.hasPrefix(first + ".") }) {
            throw ConfigurationError(key: first, problem: "is a section (such as \(inner)), not a value")
        }
        var problem = "unknown key"
        if let suggestion = Self.nearest(to: first, in: known) {
            problem += "; did you mean \(suggestion)?"
        } else {
            let parts = first.split(separator: ".")
            if parts.count >= 3, parts[0] == "webhooks" {
                problem += " (is \(parts[1]) listed in webhooks.endpoints?)"
            } else if parts.count >= 3, parts[0] == "ami" {
                problem += " (is \(parts[1]) listed in ami.extra_servers?)"
            }
        }
        if unknown.count > 1 {
            problem += " (and \(unknown.count - 1) more unknown: \(unknown.dropFirst().prefix(3).joined(separator: ", "))\(unknown.count > 4 ? ", …" : ""))"
        }
        throw ConfigurationError(key: first, problem: problem)
    }

    /// The known key closest in spelling, if it is close enough to be the one meant.
    static func nearest(to key: String, in known: Set<String>) -> String? {
        var best: (key: String, distance: Int)?
        for candidate in known.sorted() {
            let distance = editDistance(key, candidate)
            if distance < best?.distance ?? Int.max { best = (candidate, distance) }
        }
        guard let best, best.distance <= max(2, key.count / 5) else { return nil }
        return best.key
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// Remembers every key the configuration asked for: the known keys, including the sections
/// named by `ami.extra_servers` and `webhooks.endpoints`.
final class ConfigKeyRecorder: AccessReporter {
    private let keys = NIOLockedValueBox(Set<String>())

    func report(_ event: AccessEvent) {
        let key = event.metadata.key.components.joined(separator: ".")
        keys.withLockedValue { _ = $0.insert(key) }
    }

    var readKeys: Set<String> { keys.withLockedValue { $0 } }
}
