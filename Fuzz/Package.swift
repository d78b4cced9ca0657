// swift-tools-version: 6.1
import Foundation
import PackageDescription

// libFuzzer targets for tally's decoders of untrusted bytes, kept in their own package (like
// Benchmarks/) so the main package never builds with sanitizers. Run with scripts/fuzz.
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let targets = ["FuzzCSV", "FuzzS3", "FuzzAnalytics", "FuzzGzip", "FuzzPartial", "FuzzSketches"]

let package = Package(
    name: "TallyFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzHarness", dependencies: [.product(name: "TallyEngine", package: mainPackage)]),
    ] + targets.map { name in
        .executableTarget(name: name, dependencies: ["FuzzHarness"], path: "Sources/\(name)")
    },
    swiftLanguageModes: [.v6]
)
