// swift-tools-version: 6.1
import PackageDescription

// Layers, lowest first; a module knows only the modules listed before it.
//   TallySketches     mergeable sketches and their binary framing (no dependencies)
//   TallyFormats      bytes -> connection events: gunzip (ISA-L), line splitting, the three Twingate parsers
//   TallySources      where logs live: local directories, nginx JSON autoindex, S3 buckets
//   TallyReport       the report engine: plan, per-task aggregation, partials, merge, CSV
//   TallyProtocol     the JSON shapes of the HTTP API and the worker protocol
//   TallyCoordinator  job store, planning, leases, merging, the HTTP server
//   TallyWorker       leases tasks from a coordinator, runs them, uploads partials
//   TallyGen          sample log generator (`tally gen`)
//   TallyCLI          the `tally` executable
let package = Package(
    name: "tally",
    platforms: [.macOS(.v15)],  // Synchronization.Mutex
    products: [
        .executable(name: "tally", targets: ["TallyCLI"]),
        .library(name: "TallyEngine", targets: ["TallySketches", "TallyFormats", "TallyReport"]),
        .library(name: "TallyGen", targets: ["TallyGen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CIsal", path: "Sources/CIsal"),
        .target(name: "TallySketches"),
        .target(name: "TallyFormats", dependencies: ["CIsal"]),
        .target(
            name: "TallySources",
            dependencies: [
                "TallyFormats",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(name: "TallyReport", dependencies: ["TallySketches", "TallyFormats", "TallySources"]),
        .target(name: "TallyProtocol", dependencies: ["TallyReport"]),
        .target(
            name: "TallyCoordinator",
            dependencies: [
                "TallyReport", "TallySources", "TallyProtocol", "CZlib",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "TallyWorker",
            dependencies: [
                "TallyReport", "TallySources", "TallyProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "TallyGen", dependencies: ["CZlib"]),
        .executableTarget(
            name: "TallyCLI",
            dependencies: [
                "TallyReport", "TallyGen", "TallySources", "TallyProtocol", "TallyCoordinator", "TallyWorker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "TallySketchesTests",
            dependencies: ["TallySketches", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "TallyFormatsTests", dependencies: ["TallyFormats"]),
        .testTarget(name: "TallyReportTests", dependencies: ["TallyReport", "TallySources"]),
        .testTarget(name: "TallyGenTests", dependencies: ["TallyGen"]),
        .testTarget(name: "TallySourcesTests", dependencies: ["TallySources"]),
        .testTarget(
            name: "TallyCoordinatorTests",
            dependencies: [
                "TallyCoordinator", "TallyProtocol", "TallyReport", "TallySources", "TallyFormats",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
