import CLibFuzzer
import Foundation

/// Reads a fuzz input as a little program: bytes, small integers and choices. Past the end every
/// read is zero, so any input is a valid program and libFuzzer's mutations stay meaningful.
public struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    public init(_ start: UnsafePointer<UInt8>?, _ count: Int) {
        bytes = UnsafeRawBufferPointer(start: start.map(UnsafeRawPointer.init), count: count)
    }

    public var isAtEnd: Bool { offset >= bytes.count }
    public var remaining: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[min(offset, bytes.count)...]) }

    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func uint16() -> Int {
        Int(byte()) | Int(byte()) << 8
    }

    /// An index into a collection of `count` elements (0 when it is empty).
    public mutating func index(below count: Int) -> Int {
        count == 0 ? 0 : uint16() % count
    }

    public mutating func element<C: RandomAccessCollection>(of collection: C) -> C.Element? where C.Index == Int {
        collection.isEmpty ? nil : collection[collection.startIndex + Int(byte()) % collection.count]
    }
}

/// Writes a seed to a file, the way `scripts/fuzz.sh` asks for them: `AMIBRIDGE_FUZZ_SEEDS=DIR`.
public enum SeedCorpus {
    /// When `AMIBRIDGE_FUZZ_SEEDS` names a folder, writes `seeds()` there (one file a seed) and
    /// exits; otherwise returns, and the fuzzer runs.
    public static func writeIfAsked(_ seeds: () -> [(name: String, bytes: [UInt8])]) {
        guard let folder = getenv("AMIBRIDGE_FUZZ_SEEDS").map({ String(cString: $0) }) else { return }
        for seed in seeds() {
            let path = folder + "/" + seed.name.replacingOccurrences(of: "/", with: "-")
            guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
            _ = seed.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
        exit(0)
    }
}

/// A property a fuzz run checks: failing stops libFuzzer with a crash report and the input saved.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        fatalError("fuzz property broken: \(message())", file: file, line: line)
    }
}

/// libFuzzer's driver with `testOneInput`, from an executable's entry point. SwiftPM names that
/// entry point `<Module>_main`, so each fuzzer declares it with `@_cdecl` and calls this.
public func runLibFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, testOneInput)
}
