import Foundation
import ViciDial

/// Finds a recording's audio on this box, only inside the configured directories
/// (`api.recording_directories`): a name or location that leads anywhere else, by `..`, an
/// absolute path or a symlink, is as good as absent.
struct RecordingFiles: Sendable {
    /// The configured directories that exist, as real paths (symlinks resolved), each ending in `/`.
    let roots: [String]

    /// Where ViciDial's audio mixing puts files under a recording directory (`monitorDONE/MP3/...`).
    static let subdirectories = ["", "MIX/", "MP3/", "ORIG/", "GSM/", "OGG/"]
    /// The extensions tried after a `filename`, which `recording_log` stores without one.
    static let extensions = ["wav", "mp3", "gsm", "ogg", "WAV", "MP3"]

    init(directories: [String]) {
        roots = directories.compactMap { Self.realPath($0).map { $0.hasSuffix("/") ? $0 : $0 + "/" } }
    }

    /// The real path of the regular file holding `recording`'s audio, or nil.
    ///
    /// Tried in order: `location` when it is a local path; the last part of `location` when it
    /// is the URL the archiving cron wrote; `filename` with each known extension; in each root and
    /// its mixing subdirectories.
    func file(for recording: ViciDialRecording) -> String? {
        var candidates: [String] = []
        var names: [String] = []
        if let location = recording.location, !location.isEmpty {
            if location.hasPrefix("/") {
                candidates.append(location)
            } else if let last = URL(string: location)?.lastPathComponent {
                names.append(last)
            }
        }
        if let filename = recording.filename, !filename.isEmpty {
            names += Self.extensions.map { "\(filename).\($0)" } + [filename]
        }
        for name in names where Self.isPlainName(name) {
            for root in roots {
                candidates += Self.subdirectories.map { root + $0 + name }
            }
        }
        return candidates.lazy.compactMap(inside).first
    }

    /// `path`'s real path when it is a regular file inside a root; nil otherwise.
    func inside(_ path: String) -> String? {
        guard let real = Self.realPath(path), roots.contains(where: { real.hasPrefix($0) }) else { return nil }
        var status = stat()
        guard stat(real, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return real
    }

    /// One path component, no `..`, no NUL: a name, never a way elsewhere.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }

    static func realPath(_ path: String) -> String? {
        guard !path.contains("\0"), let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The content type a player needs, from the file's extension.
    static func contentType(of path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "wav": "audio/wav"
        case "mp3": "audio/mpeg"
        case "gsm": "audio/x-gsm"
        case "ogg": "audio/ogg"
        default: "application/octet-stream"
        }
    }
}

/// A `Range: bytes=...` header against a file of `size` bytes (RFC 9110 §14.1.2): one range,
/// `first-last`, `first-` or `-suffix`. Several ranges, or a header that is not a byte range,
/// are ignored (the whole file, 200), as the RFC allows.
enum ByteRange: Equatable {
    case whole
    case part(ClosedRange<Int>)
    /// No byte of the file is in the range: 416 with `Content-Range: bytes */size`.
    case unsatisfiable

    init(header: String?, size: Int) {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { self = .whole; return }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard let dash = spec.firstIndex(of: "-") else { self = .whole; return }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        guard first.allSatisfy(\.isASCIIDigit), last.allSatisfy(\.isASCIIDigit), !(first.isEmpty && last.isEmpty) else {
            self = .whole
            return
        }
        if first.isEmpty {
            // The last `suffix` bytes.
            guard let suffix = Int(last), suffix > 0, size > 0 else { self = .unsatisfiable; return }
            self = .part(max(0, size - suffix)...(size - 1))
            return
        }
        guard let start = Int(first), start < size else { self = .unsatisfiable; return }
        let end = last.isEmpty ? size - 1 : min(Int(last) ?? Int.max, size - 1)
        self = end >= start ? .part(start...end) : .whole
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
