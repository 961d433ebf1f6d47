// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "thplab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "thplab", targets: ["thplab"]),
        .library(name: "THPLab", targets: ["THPLab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", exact: "1.8.1"),
    ],
    targets: [
        // The only target that includes Linux, libnuma, libcap and zlib headers
        // (zlib reads /proc/config.gz).
        .target(
            name: "CShims",
            path: "CShims",
            linkerSettings: [.linkedLibrary("numa"), .linkedLibrary("cap"), .linkedLibrary("z")]
        ),
        .target(
            name: "THPLab",
            dependencies: [
                "CShims",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "thplab",
            dependencies: [
                "THPLab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            plugins: ["BuildCommit"]
        ),
        // The parsers under libFuzzer (scripts/fuzz builds it with
        // -sanitize=fuzzer,address); a plain build replays inputs.
        .executableTarget(
            name: "thplab-fuzz",
            dependencies: ["THPLab"],
            path: "Sources/thplab-fuzz"
        ),
        // Names the git commit in `thplab --version`.
        .plugin(name: "BuildCommit", capability: .buildTool()),
        .testTarget(
            name: "THPLabTests",
            dependencies: ["THPLab", "thplab"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "KernelTests",
            dependencies: ["THPLab", "thplab"]
        ),
    ]
)
