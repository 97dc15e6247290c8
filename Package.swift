// swift-tools-version:6.3
// Layers depend only downward (README.md draws the graph):
//   LunaSupport (below everything), CZstd → TraceFormat → TraceAnalysis | ConformanceKit | LunaRuntime
//   → LunaAdapter → LunaTraceCommands | LunaConformCommands → thin executables; LunaBenchmarks on the libraries.
import PackageDescription

// Warnings become errors when LUNA_WARNINGS_AS_ERRORS is set (test.sh and CI set it); opt-in, as
// WasmKit does, so that packages depending on Luna never inherit -warnings-as-errors.
let lunaSettings: [SwiftSetting] =
    Context.environment["LUNA_WARNINGS_AS_ERRORS"] != nil ? [.treatAllWarnings(as: .error)] : []

let package = Package(
    name: "Luna",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TraceFormat", targets: ["TraceFormat"]),
        .library(name: "LunaRuntime", targets: ["LunaRuntime"]),
        .library(name: "TraceAnalysis", targets: ["TraceAnalysis"]),
        .library(name: "ConformanceKit", targets: ["ConformanceKit"]),
        .library(name: "LunaAdapter", targets: ["LunaAdapter"]),
        .library(name: "ConformanceFuzz", targets: ["ConformanceFuzz"]),
        .executable(name: "luna-trace", targets: ["luna-trace"]),
        .executable(name: "luna-conform", targets: ["luna-conform"]),
        .executable(name: "luna-bench", targets: ["luna-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // libzstd from the system (Debian: libzstd-dev).
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]
        ),
        // The system's TLS (Debian: libssl-dev), for lunatic::networking's tls_* calls.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"]), .brew(["openssl"])]
        ),
        // SQLite from the system (Debian: libsqlite3-dev), for `luna-trace query` and the sqlite export.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        // The clock, the condition lock, the seeded PRNG and small concurrency helpers every
        // module shares; the bottom module (no dependencies).
        .target(name: "LunaSupport"),
        // The trace file format: events, encoding, writer, reader. No runtime dependency.
        .target(name: "TraceFormat", dependencies: ["CZstd", "LunaSupport"]),
        // The CPU cycle counter for cheap trace timestamps (LunaRuntime/Core/TraceClock.swift).
        .target(name: "CLunaClock"),
        // memfd and the kernel's mapping query, for guests' copy-on-write memory images
        // (LunaRuntime/Wasm/MemoryImage.swift).
        .target(name: "CLunaMemory"),
        // Processes, mailboxes, resources, WebAssembly guests, tracing.
        .target(
            name: "LunaRuntime",
            dependencies: [
                "TraceFormat", "LunaSupport", "COpenSSL", "CLunaClock", "CLunaMemory",
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WAT", package: "WasmKit"),
                // WASI preview 1 for guests (Wasm/GuestProcess+WASI.swift); WASI for its stdio SPI.
                .product(name: "WasmKitWASI", package: "WasmKit"),
                .product(name: "WASI", package: "WasmKit"),
            ],
            exclude: ["Core/CONTRACT.md"]
        ),
        // Trace analysis on the format alone: message tracker, lost-message lint, statistics,
        // exporters, event lines.
        .target(name: "TraceAnalysis", dependencies: ["TraceFormat"]),
        // A trace as SQL tables (events, messages, processes, …) in SQLite.
        .target(name: "TraceSQL", dependencies: ["TraceAnalysis", "TraceFormat", "CSQLite"]),
        // Replay engine, adapter protocol and divergence reports, on the format alone (what an
        // adapter author links).
        .target(name: "ConformanceKit", dependencies: ["TraceFormat", "LunaSupport"]),
        // The built-in adapter: LunaRuntime behind the adapter protocol, with injectable faults.
        .target(name: "LunaAdapter", dependencies: ["ConformanceKit", "TraceFormat", "LunaRuntime", "LunaSupport"]),
        // Seeded workload generation on LunaRuntime, replay against adapters, shrinking.
        .target(name: "ConformanceFuzz", dependencies: ["TraceFormat", "LunaRuntime", "ConformanceKit", "LunaSupport"]),
        // Running a lunatic program's `_start` or its `#lunatic_test_` functions on LunaRuntime,
        // as lunatic's CLI and cargo-test mode did (optionally traced).
        .target(name: "LunaRunner", dependencies: ["LunaRuntime", "TraceAnalysis", "TraceFormat", "LunaSupport"]),
        // Commands of the CLIs, testable in process.
        .target(
            name: "LunaTraceCommands",
            dependencies: [
                "TraceFormat", "TraceAnalysis", "TraceSQL", "LunaRuntime", "LunaRunner", "LunaSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "LunaConformCommands",
            dependencies: [
                "ConformanceKit", "ConformanceFuzz", "LunaAdapter", "TraceFormat", "LunaRuntime", "LunaSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmarks: repeatable commands that print figures (run in release).
        .target(
            name: "LunaBenchmarks",
            dependencies: [
                "TraceFormat", "TraceAnalysis", "LunaRuntime", "ConformanceKit", "LunaSupport",
                "CZstd",  // P3's floor: zstd decompression of a trace's blocks alone
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "luna-bench", dependencies: ["LunaBenchmarks"]),
        .executableTarget(name: "luna-trace", dependencies: ["LunaTraceCommands"]),
        .executableTarget(name: "luna-conform", dependencies: ["LunaConformCommands"]),

        // What several test targets share (not a product).
        .target(name: "LunaTestSupport", dependencies: ["TraceFormat"], path: "Tests/LunaTestSupport"),
        .testTarget(name: "TraceFormatTests", dependencies: ["TraceFormat", "LunaSupport", "LunaTestSupport"]),
        .testTarget(name: "LunaBenchmarksTests", dependencies: ["LunaBenchmarks", "LunaRuntime", "LunaTestSupport"]),
        .testTarget(
            name: "LunaRuntimeTests",
            dependencies: [
                "LunaRuntime", "TraceFormat", "LunaSupport", "LunaTestSupport", .product(name: "WAT", package: "WasmKit"),
                "LunaBenchmarks",  // the guest ping-pong workload, for one causality test
            ]
        ),
        .testTarget(
            name: "LunaTraceTests",
            dependencies: [
                "LunaTraceCommands", "LunaRunner", "TraceAnalysis", "TraceFormat", "LunaRuntime", "LunaSupport",
                "LunaTestSupport",
            ]
        ),
        .testTarget(
            name: "LunaConformTests",
            dependencies: [
                "LunaConformCommands", "LunaAdapter", "ConformanceKit", "TraceFormat", "LunaRuntime",
                "LunaSupport", "LunaTestSupport",
            ],
            exclude: ["Fixtures"]  // adapter scripts the tests run by path with python3
        ),
        .testTarget(
            name: "ConformanceFuzzTests",
            dependencies: [
                "ConformanceFuzz", "LunaConformCommands", "ConformanceKit", "TraceFormat", "LunaRuntime",
                "LunaSupport", "LunaTestSupport",
            ]
        ),
    ]
)

// Every Swift target of the package gets the shared settings (new targets included).
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + lunaSettings
}
