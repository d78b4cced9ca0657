// swift-tools-version: 6.1
import PackageDescription

// Layers, lowest first; a module knows only the modules listed before it, and each declares
// exactly the modules it imports.
//   TallySketches     mergeable sketches and their binary framing (no dependencies)
//   TallyFormats      bytes -> connection events: gunzip (ISA-L), records, the three Twingate parsers, civil time
//   TallyReport       the engine, no I/O: plan -> aggregate -> partial -> merge -> output (CSV)
//   TallyDeflate      gzip writing (ISA-L) and raw inflating (zlib): result copies, merge rows, sample logs
//   TallySources      where logs live (I/O): local directories, nginx JSON autoindex, S3 buckets
//   TallyProtocol     wire types of the job API and worker protocol v1, and their conversions
//   TallyClient       the coordinator's HTTP client, shared by the CLI and the worker
//   TallyPostgres     the same store protocols in PostgreSQL, shared by coordinator replicas
//   TallyCoordinator  http / store / planning / scheduling / merging / files, as services
//   TallyWorker       runs leased tasks: source -> engine -> upload, as a service
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
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CIsal", path: "Sources/CIsal"),
        .target(name: "TallySketches", dependencies: ["CIsal"]),
        .target(name: "TallyFormats", dependencies: ["CIsal"]),
        .target(name: "TallyReport", dependencies: ["TallySketches", "TallyFormats"]),
        .target(name: "TallyDeflate", dependencies: ["CZlib", "CIsal"]),
        .target(
            name: "TallySources",
            dependencies: [
                "TallyFormats", "TallyReport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(name: "TallyProtocol", dependencies: ["TallyFormats", "TallyReport", "TallySources"]),
        .target(
            name: "TallyClient",
            dependencies: [
                "TallyProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "TallyServices",
            dependencies: [
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "TallyStore",
            dependencies: [
                "TallyFormats", "TallyReport", "TallySources", "TallyProtocol",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "TallyPostgres",
            dependencies: [
                "TallyReport", "TallyProtocol", "TallyStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "TallyAccess",
            dependencies: [
                "TallyFormats", "TallyProtocol", "TallyServices", "TallyStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TallyNotifications",
            dependencies: [
                "TallyFormats", "TallyReport", "TallyProtocol", "TallyServices", "TallyStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TallyWeb",
            dependencies: ["TallyFormats", "TallyReport", .product(name: "Mustache", package: "swift-mustache")]
        ),
        .target(
            name: "TallyCoordinator",
            dependencies: [
                "TallyFormats", "TallyReport", "TallyDeflate", "TallySources", "TallyProtocol", "TallyServices", "TallyStore",
                "TallyAccess", "TallyNotifications", "TallyWeb", "TallyPostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
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
                "TallyFormats", "TallyReport", "TallySources", "TallyProtocol", "TallyClient", "TallyServices", "TallyDeflate",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "TallyGen", dependencies: ["TallyFormats", "TallyDeflate"]),
        .executableTarget(
            name: "TallyCLI",
            dependencies: [
                "TallyFormats", "TallyReport", "TallyGen", "TallySources", "TallyProtocol", "TallyClient", "TallyAccess", "TallyCoordinator",
                "TallyWorker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "TallySketchesTests",
            dependencies: ["TallySketches", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "TallyFormatsTests", dependencies: ["TallyFormats"]),
        .testTarget(name: "TallyReportTests", dependencies: ["TallySketches", "TallyFormats", "TallyReport"]),
        .testTarget(name: "TallyGenTests", dependencies: ["TallyGen"]),
        .testTarget(name: "TallySourcesTests", dependencies: ["TallyFormats", "TallyReport", "TallySources"]),
        .testTarget(name: "TallyWorkerTests", dependencies: ["TallyFormats", "TallyReport", "TallySources", "TallyWorker"]),
        .testTarget(name: "TallyProtocolTests", dependencies: ["TallyFormats", "TallyReport", "TallySources", "TallyProtocol"]),
        .testTarget(
            name: "TallyCoordinatorTests",
            dependencies: [
                "TallyCoordinator", "TallyProtocol", "TallyReport", "TallyFormats", "TallySources", "TallySketches", "TallyServices",
                "TallyStore", "TallyNotifications", "TallyWeb", "TallyDeflate",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"]  // read by path: a database of an earlier release
        ),
    ],
    swiftLanguageModes: [.v6]
)
