// swift-tools-version: 6.1
import PackageDescription

// Layers, lowest first; a module knows only the modules above it in this list.
//   TallySketches  mergeable sketches and their binary framing (no dependencies)
//   TallyFormats   bytes -> connection events: gunzip, line splitting, the three Twingate parsers
//   TallySources   where logs live: local directories, nginx JSON autoindex over HTTP
//   TallyReport    the report engine: plan, per-task aggregation, partials, merge, CSV
//   TallyGen       sample log generator (`tally gen`)
//   TallyCLI       the `tally` executable
let package = Package(
    name: "tally",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tally", targets: ["TallyCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "TallySketches"),
        .target(name: "TallyFormats", dependencies: ["CZlib"]),
        .target(
            name: "TallySources",
            dependencies: [
                "TallyFormats",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(name: "TallyReport", dependencies: ["TallySketches", "TallyFormats", "TallySources"]),
        .target(name: "TallyGen", dependencies: ["CZlib"]),
        .executableTarget(
            name: "TallyCLI",
            dependencies: [
                "TallyReport", "TallyGen", "TallySources",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "TallySketchesTests",
            dependencies: ["TallySketches", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "TallyFormatsTests", dependencies: ["TallyFormats"]),
        .testTarget(name: "TallyReportTests", dependencies: ["TallyReport"]),
        .testTarget(name: "TallyGenTests", dependencies: ["TallyGen"]),
    ],
    swiftLanguageModes: [.v6]
)
