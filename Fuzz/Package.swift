// swift-tools-version: 6.2
import PackageDescription

// Coverage-guided fuzzing of the wire with libFuzzer: a package of its own so that the main build
// and CI never compile it unless asked. Build and run it with `scripts/fuzz.sh`, which passes
// `-sanitize=fuzzer,address` to every Swift module (the product code included, so libFuzzer sees
// its coverage). Each executable is one fuzzer with its `LLVMFuzzerTestOneInput`, run by
// libFuzzer's driver from the executable's main.
let package = Package(
    name: "amibridge-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "amibridge", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // libFuzzer's driver entry point (the library itself comes with `-sanitize=fuzzer`).
        .systemLibrary(name: "CLibFuzzer"),
        // The recorded sessions as fuzzing material, the input reader and the seed writer.
        .target(
            name: "FuzzSupport",
            dependencies: [
                "CLibFuzzer",
                .product(name: "AMIProtocol", package: "amibridge"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "FuzzAMIFrameDecoder",
            dependencies: [
                "FuzzSupport",
                .product(name: "AMIProtocol", package: "amibridge"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "FuzzAMIConnection",
            dependencies: ["FuzzSupport", .product(name: "AMIProtocol", package: "amibridge")]
        ),
        .executableTarget(
            name: "FuzzCallTracker",
            dependencies: [
                "FuzzSupport",
                .product(name: "AMIProtocol", package: "amibridge"),
                .product(name: "EventMapper", package: "amibridge"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
