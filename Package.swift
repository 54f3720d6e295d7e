// swift-tools-version: 6.2
import PackageDescription

// The dependency set is deliberate: CI builds it from scratch on every run (2 cores), so every
// package here earns its build time. See README "Dependencies".
let package = Package(
    name: "amibridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "amibridge", targets: ["AMIBridge"]),
        .executable(name: "amibridge-bench", targets: ["AMIBenchmarks"]),
        // For the fuzzing package under Fuzz/, which builds them with libFuzzer's instrumentation.
        .library(name: "AMIProtocol", targets: ["AMIProtocol"]),
        .library(name: "EventMapper", targets: ["EventMapper"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // Metrics: the library targets record through the swift-metrics API; only the executable
        // knows they end up in Prometheus text on `/metrics`.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // C libraries, reached only through a module map and a static-inline shim.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CMariaDB",
            pkgConfig: "libmariadb",
            providers: [.apt(["libmariadb-dev"])]
        ),
        .systemLibrary(
            name: "CNats",
            pkgConfig: "libnats",
            providers: [.apt(["libnats-dev"])]
        ),

        // Bytes on the wire: AMI framing, actions, the connection state machine and the client.
        .target(
            name: "AMIProtocol",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Decisions: AMI events become calls. Pure: no C library, no database, no disk.
        .target(
            name: "EventMapper",
            dependencies: [
                "AMIProtocol",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The MariaDB driver: libmariadb behind prepared statements, blocking calls on its own threads.
        .target(
            name: "MariaDB",
            dependencies: [
                "CMariaDB",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // ViciDial's tables: the join of a call with its row, the disposition watch, the API's queries.
        .target(
            name: "ViciDial",
            dependencies: [
                "EventMapper",
                "MariaDB",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // I/O toward CRMs: durable outbox and libcurl delivery.
        .target(
            name: "CRMSink",
            dependencies: [
                "CCurl",
                "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            exclude: ["README.md"]
        ),
        // The durable event log on NATS JetStream (optional): libnats behind a connection that owns
        // its handles and runs blocking calls on its own thread.
        .target(
            name: "EventLog",
            dependencies: [
                "CNats",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test helper for the crash-safety test: the real outbox and dispatcher in a process that
        // the test kills with SIGKILL and starts again. Built beside the test bundle; no product.
        .executableTarget(
            name: "OutboxCrashHelper",
            dependencies: ["CRMSink", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "AMIBridge",
            dependencies: [
                "AMIProtocol",
                "EventMapper",
                "MariaDB",
                "ViciDial",
                "CRMSink",
                "EventLog",
                // `amibridge simulate`: the simulated ViciDial box (and capture replay through AMITestSupport).
                "DialerSimulator",
                "AMITestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                "CSQLite",
            ]
        ),
        .executableTarget(
            name: "AMIBenchmarks",
            dependencies: [
                "AMIProtocol",
                "EventMapper",
                "MariaDB",
                "ViciDial",
                "ViciDialTestSupport",
                "AMITestSupport",
                "CRMSink",
                // nats-publish and drill-ha: publishing to and counting a JetStream stream.
                "EventLog",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Fakes for what cannot run here (Asterisk), shared by tests, the demo and benchmarks.
        .target(
            name: "AMITestSupport",
            dependencies: [
                "AMIProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),

        // A simulated ViciDial box for demos, tests and drills: generated call traffic shaped like
        // the recorded captures, answered actions, and the rows ViciDial writes. Ships in
        // `amibridge simulate`; the daemon never links it into its call path.
        .target(
            name: "DialerSimulator",
            dependencies: [
                "AMIProtocol",
                "AMITestSupport",
                "MariaDB",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The private test MariaDB, a driver that writes rows the way ViciDial does, and the
        // disposition-watcher benchmark: shared by tests and amibridge-bench, never shipped.
        .target(
            name: "ViciDialTestSupport",
            dependencies: ["EventMapper", "MariaDB", "ViciDial"]
        ),

        .testTarget(
            name: "AMIProtocolTests",
            dependencies: [
                "AMIProtocol",
                "AMITestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "EventMapperTests",
            dependencies: ["EventMapper", "AMITestSupport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]
        ),
        .testTarget(
            name: "MariaDBTests",
            dependencies: ["MariaDB", "ViciDialTestSupport", "AMITestSupport"]
        ),
        .testTarget(
            name: "ViciDialTests",
            dependencies: ["EventMapper", "MariaDB", "ViciDial", "ViciDialTestSupport", "AMITestSupport"]
        ),
        .testTarget(
            name: "CRMSinkTests",
            dependencies: [
                "CRMSink",
                "AMITestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog", "AMITestSupport"]
        ),
        .testTarget(
            name: "DialerSimulatorTests",
            dependencies: [
                "DialerSimulator",
                "EventMapper",
                "MariaDB",
                "ViciDial",
                "ViciDialTestSupport",
                "AMIProtocol",
                "AMITestSupport",
            ]
        ),
        .testTarget(
            name: "AMIBridgeTests",
            dependencies: [
                "AMIBridge",
                "EventMapper",
                "MariaDB",
                "ViciDial",
                "ViciDialTestSupport",
                "EventLog",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                "AMIProtocol",
                "AMITestSupport",
                "CRMSink",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
