// swift-tools-version: 6.1
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, so the main package's identity is whatever
// the checkout is called (`main` here, something else in a CI clone).
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

// Kernel benchmarks for tally (package-benchmark). Kept as a separate package so the
// main package does not depend on the benchmark plugin. Run with scripts/bench-kernels.
let package = Package(
    name: "TallyBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TallyKernels",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TallyEngine", package: mainPackage),
                .product(name: "TallyGen", package: mainPackage),
            ],
            path: "Benchmarks/TallyKernels",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
