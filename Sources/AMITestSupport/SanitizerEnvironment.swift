import Foundation

/// What a test passes on to the processes it starts when the suite runs under a sanitizer
/// (`SANITIZE=address|thread scripts/test.sh`).
///
/// Tests start the daemon with only the variables they choose, so the sanitizer settings must be
/// passed on explicitly. The daemon and its commands are the product: they get the leak check
/// (`AMIBRIDGE_CHILD_ASAN_OPTIONS`, with the suppressions in `LSAN_OPTIONS`), while the test runner
/// goes without it (its own `ASAN_OPTIONS`), because what it leaves at exit is its fixtures.
public enum SanitizerEnvironment {
    public static var forChildProcesses: [String: String] {
        let inherited = ProcessInfo.processInfo.environment
        var passed: [String: String] = [:]
        passed["ASAN_OPTIONS"] = inherited["AMIBRIDGE_CHILD_ASAN_OPTIONS"]
        passed["LSAN_OPTIONS"] = inherited["LSAN_OPTIONS"]
        passed["TSAN_OPTIONS"] = inherited["TSAN_OPTIONS"]
        return passed
    }
}
