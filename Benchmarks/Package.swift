// swift-tools-version:6.1
// The benchmarks: a package of their own, depending on the product by path, so that nothing here
// enters the main package graph (no benchmark code in tenantsyncd, no benchmark dependency in CI builds).
import PackageDescription

let package = Package(
    name: "tenantsync-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "tenantsync", path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "tenantsync-bench",
            dependencies: [
                .product(name: "TenantSyncBenchmarkable", package: "tenantsync"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
    ]
)
