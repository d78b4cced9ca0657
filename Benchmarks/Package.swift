// swift-tools-version: 6.1
import PackageDescription

// Kernel benchmarks for tally (package-benchmark). Kept as a separate package so the
// main package does not depend on the benchmark plugin. Run with scripts/bench-kernels.
let package = Package(
    name: "TallyBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TallyKernels",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TallyEngine", package: "main"),
                .product(name: "TallyGen", package: "main"),
            ],
            path: "Benchmarks/TallyKernels",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
