// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "tenantsync",
    products: [
        .executable(name: "tenantsyncd", targets: ["tenantsyncd"]),
        .executable(name: "tenantsyncctl", targets: ["tenantsyncctl"]),
        .executable(name: "tenantsync-emulator", targets: ["tenantsync-emulator"]),
        // Build tool: writes the man pages (`make man`); not installed.
        .executable(name: "tenantsync-manpages", targets: ["tenantsync-manpages"]),
        // For the separate Benchmarks/ package only (it drives the sync engine in a process of its own).
        .library(name: "TenantSyncBenchmarkable", targets: ["TenantSyncDaemon", "TenantSyncStore", "MicrosoftCloud", "TenantSyncCore", "TenantSyncConfig", "Credentials"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Executables: argument parsing and wiring only.
        .executableTarget(
            name: "tenantsyncd",
            dependencies: [
                "TenantSyncDaemon",
                "TenantSyncConfig",
                "TenantSyncCore",
                "Systemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "tenantsyncctl",
            dependencies: [
                "ControlPlane",
                "TenantSyncCore",
                "Credentials",
                "ManualPages",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .executableTarget(
            name: "tenantsync-emulator",
            dependencies: [
                "M365Emulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "tenantsync-manpages",
            dependencies: [
                "ManualPages",
                "TenantSyncConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Man pages (roff) from ArgumentParser's command tree; shared by tenantsyncctl and tenantsync-manpages.
        .target(name: "ManualPages"),

        // Domain core: pure Swift, no IO.
        .target(name: "TenantSyncCore"),

        // Schema migrations, embedded in the binary.
        .target(
            name: "Migrations",
            path: "Migrations",
            exclude: ["README.md", "postgresql"],
            resources: [
                .embedInCode("0001_initial.sql"),
                .embedInCode("0002_sync_holds.sql"),
                .embedInCode("0003_directory_members_index.sql"),
                .embedInCode("0004_inline_mail_flow.sql"),
                .embedInCode("0005_store_write_probe.sql"),
                .embedInCode("0006_fleet_indexes.sql"),
                .embedInCode("0007_directory_summary.sql"),
                .embedInCode("0008_credential_expiry.sql"),
                .embedInCode("0009_tenant_last_run.sql"),
                .embedInCode("0010_account_certificate.sql"),
                .embedInCode("0011_consent_sessions.sql"),
                .embedInCode("0012_metrics_read_indexes.sql"),
                .embedInCode("0013_metrics_versions.sql"),
            ]
        ),

        // The PostgreSQL store's own migrations (Migrations/postgresql/NNNN_what.sql), embedded in the binary. A target of
        // their own: embedded resources are named after the file alone, and the SQLite sequence has the same names.
        .target(
            name: "PostgreSQLMigrations",
            dependencies: ["Migrations"],
            path: "Migrations/postgresql",
            resources: [
                .embedInCode("0001_initial.sql"),
                .embedInCode("0002_alert_outbox_notify.sql"),
                .embedInCode("0003_cluster.sql"),
                .embedInCode("0004_consent_sessions.sql"),
                .embedInCode("0005_metrics_versions.sql"),
            ]
        ),

        // Key material: certificate credentials, client assertions, owner-only key files.
        .target(
            name: "Credentials",
            dependencies: [
                "TenantSyncCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),

        // Adapters, one per outside world.
        .target(
            name: "TenantSyncStore",
            dependencies: [
                "TenantSyncCore",
                "Credentials",
                "Migrations",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // PostgreSQL (postgres-nio): the store several daemons share.
        .target(
            name: "TenantSyncPostgreSQL",
            dependencies: [
                "TenantSyncCore",
                "Credentials",
                "Migrations",
                "PostgreSQLMigrations",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "TenantSyncConfig",
            dependencies: [
                "TenantSyncCore",
                "Credentials",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .target(
            name: "MicrosoftCloud",
            dependencies: [
                "TenantSyncCore",
                "Credentials",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        .target(
            name: "Systemd",
            dependencies: [
                "CSystemd",
                "TenantSyncCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Alerting",
            dependencies: [
                "TenantSyncCore",
                "Systemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ControlPlane",
            dependencies: [
                "TenantSyncCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [
                .embedInCode("io.tenantsync.Control.varlink"),
            ]
        ),
        .target(
            name: "M365Emulator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["README.md"]
        ),

        // The Prometheus endpoint (`[metrics] listen`): the daemon's metrics interface, implemented on swift-metrics
        // and swift-prometheus, served by Hummingbird.
        .target(
            name: "TenantSyncMetrics",
            dependencies: [
                "TenantSyncCore",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The daemon's services and their wiring.
        .target(
            name: "TenantSyncDaemon",
            dependencies: [
                "TenantSyncCore",
                "TenantSyncMetrics",
                "TenantSyncStore",
                "TenantSyncPostgreSQL",
                "TenantSyncConfig",
                "MicrosoftCloud",
                "Credentials",
                "Systemd",
                "Alerting",
                "ControlPlane",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),

        // Tests: one target per module.
        // Helpers shared by the test targets: EINTR-safe reads, a real journald, off-thread blocking work, a manual clock,
        // in-memory log capture, condition waits, test users and the control-socket fuzzer.
        .target(
            name: "TestSupport",
            dependencies: [
                "ControlPlane", .product(name: "Logging", package: "swift-log"),
                .product(name: "_CryptoExtras", package: "swift-crypto"), .product(name: "X509", package: "swift-certificates"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "TenantSyncCoreTests", dependencies: ["TenantSyncCore", "TestSupport"]),
        .testTarget(
            name: "TenantSyncStoreTests",
            dependencies: [
                "TenantSyncStore",
                "Credentials",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // One suite run against both stores (SQLite and a private PostgreSQL server), so the two cannot drift.
        .testTarget(
            name: "StoreConformanceTests",
            dependencies: [
                "TestSupport",
                "TenantSyncStore",
                "TenantSyncPostgreSQL",
                "Credentials",
                "TenantSyncCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "TenantSyncConfigTests", dependencies: ["TenantSyncConfig", "TenantSyncCore", "TestSupport"]),
        .testTarget(
            name: "TenantSyncMetricsTests",
            dependencies: [
                "TestSupport",
                "TenantSyncMetrics",
                "TenantSyncCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "MicrosoftCloudTests",
            dependencies: [
                "TestSupport",
                "MicrosoftCloud",
                "M365Emulator",
                "Credentials",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "M365EmulatorTests",
            dependencies: [
                "M365Emulator",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "SystemdTests",
            dependencies: [
                "TestSupport",
                "Systemd",
                "TenantSyncCore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "AlertingTests",
            dependencies: [
                "TestSupport",
                "Credentials",
                "Alerting",
                "Systemd",
                "TenantSyncCore",
                "TenantSyncStore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: [
                "TestSupport",
                "ControlPlane",
                "TenantSyncCore",
                "TenantSyncConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "TenantSyncDaemonTests",
            dependencies: [
                "TestSupport",
                "TenantSyncDaemon",
                "TenantSyncStore",
                "TenantSyncPostgreSQL",
                "M365Emulator",
                "Credentials",
                "MicrosoftCloud",
                "ControlPlane",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "Systemd",
                "TenantSyncConfig",
                "TenantSyncCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
    ]
)
