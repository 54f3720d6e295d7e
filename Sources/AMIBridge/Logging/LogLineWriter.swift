import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes log lines to a file descriptor, joining the lines of a burst into one `write(2)`.
///
/// In a call storm the bridge logs tens of thousands of lines a second; one write each is as
/// many system calls, and as many wake-ups of whatever reads the pipe. Here a line is appended to
/// a buffer, and a writer thread writes the buffer at most ``delay`` after its first line, or at
/// once when it passes ``flushSize`` or the caller asks (warnings and worse, so that what comes
/// before a crash is out). The buffer is also written at `exit`.
///
/// Lines are whole and in order: every write takes the buffer as it is, under one lock.
final class LogLineWriter: @unchecked Sendable {
    /// Stdout, written at exit too.
    static let standardOutput: LogLineWriter = {
        let writer = LogLineWriter(fileDescriptor: STDOUT_FILENO)
        atexit { LogLineWriter.standardOutput.flush() }
        return writer
    }()

    /// Seconds a line may wait for others to join it.
    static let delay: TimeInterval = 0.002
    /// Bytes that make a write worth it at once.
    static let flushSize = 64 * 1024

    private let fileDescriptor: Int32
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var pending: [UInt8] = []
    /// Held while a buffer is written: writes go out one at a time, in the order taken.
    private let writing = NSLock()

    init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
        // The thread keeps its writer: a writer lives as long as the process (stdout's does).
        let thread = Thread {
            Thread.current.name = "amib.log"
            self.runWriter()
        }
        thread.start()
    }

    /// Appends `line` (newline included); with `flushNow`, returns once it is written.
    func write(_ line: [UInt8], flushNow: Bool = false) {
        self.condition.lock()
        let wasEmpty = self.pending.isEmpty
        self.pending += line
        let full = self.pending.count >= Self.flushSize
        if wasEmpty { self.condition.signal() }
        self.condition.unlock()
        if flushNow || full { self.flush() }
    }

    /// Writes whatever is buffered, then returns.
    func flush() {
        self.writing.lock()
        defer { self.writing.unlock() }
        self.condition.lock()
        var bytes = self.pending
        self.pending = []
        self.pending.reserveCapacity(bytes.count)
        self.condition.unlock()
        Self.writeAll(&bytes, to: self.fileDescriptor)
    }

    private func runWriter() {
        while true {
            self.condition.lock()
            while self.pending.isEmpty { self.condition.wait() }
            self.condition.unlock()
            // Let the burst gather: the rest of a batch of calls lands in the same write.
            Thread.sleep(forTimeInterval: Self.delay)
            self.flush()
        }
    }

    private static func writeAll(_ bytes: inout [UInt8], to fileDescriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return // stdout closed or broken: nothing else to do with a log line
                }
            }
        }
    }
}
