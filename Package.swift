// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
  .swiftLanguageMode(.v6),
  .enableUpcomingFeature("ExistentialAny"),
]

// Linux only: SshClient's reactor is an epoll loop, and the tools, tests and testbeds use Linux's
// /proc, posix_spawn flags and Debian's libssh2 1.10. No other platform is declared.
let package = Package(
  name: "apssh-swift",
  products: [
    .library(name: "AsyncJobs", targets: ["AsyncJobs"]),
    .library(name: "SshClient", targets: ["SshClient"]),
    .library(name: "Inventory", targets: ["Inventory"]),
    .library(name: "Testbed", targets: ["Testbed"]),
    .library(name: "SshJobs", targets: ["SshJobs"]),
    .executable(name: "aptestbed", targets: ["aptestbed"]),
    .library(name: "APSSHCLI", targets: ["APSSHCLI"]),
    .executable(name: "apssh", targets: ["apssh"]),
    .executable(name: "appush", targets: ["appush"]),
    .executable(name: "appull", targets: ["appull"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
  ],
  targets: [
    // Scheduler: no dependency on anything SSH (swift-subprocess runs graphviz for its drawings).
    .target(
      name: "AsyncJobs", dependencies: [.product(name: "Subprocess", package: "swift-subprocess")],
      swiftSettings: strict),

    // libssh2, through pkg-config (Debian: libssh2-1-dev).
    .systemLibrary(
      name: "CLibSSH2", pkgConfig: "libssh2",
      providers: [.apt(["libssh2-1-dev"])]),
    .target(name: "SshClient", dependencies: ["CLibSSH2"], swiftSettings: strict),

    // Jobs running command sequences on SSH nodes (and the local host), formatters, topology.
    .target(
      name: "SshJobs",
      dependencies: ["AsyncJobs", "SshClient", .product(name: "Subprocess", package: "swift-subprocess")],
      swiftSettings: strict),

    // Host inventories, target grammar, ranges, and scenario files read into run specs.
    .target(
      name: "Inventory",
      dependencies: ["SshJobs", .product(name: "Yams", package: "Yams")],
      swiftSettings: strict),

    // A local fleet of real sshd hosts on loopback.
    .target(name: "Testbed", swiftSettings: strict),
    .executableTarget(
      name: "aptestbed",
      dependencies: ["Testbed", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      swiftSettings: strict),

    // The command-line tools: argument parsing and the commands; the executables are thin mains.
    .target(
      name: "APSSHCLI",
      dependencies: [
        "SshJobs", "Inventory",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Yams", package: "Yams"),
      ],
      swiftSettings: strict),
    .executableTarget(name: "apssh", dependencies: ["APSSHCLI"], swiftSettings: strict),
    .executableTarget(name: "appush", dependencies: ["APSSHCLI"], swiftSettings: strict),
    .executableTarget(name: "appull", dependencies: ["APSSHCLI"], swiftSettings: strict),
    .executableTarget(
      name: "ssh-demo", dependencies: ["SshJobs", "Testbed"], path: "examples/ssh-demo", swiftSettings: strict),

    .executableTarget(
      name: "asyncjobs-bench", dependencies: ["AsyncJobs"], path: "benchmarks/asyncjobs",
      swiftSettings: strict),
    .executableTarget(
      name: "reuse-bench", dependencies: ["SshJobs", "Testbed"], path: "benchmarks/reuse", swiftSettings: strict),
    .executableTarget(
      name: "fanout-bench", dependencies: ["SshClient", "Testbed"], path: "benchmarks/fanout", swiftSettings: strict),
    .executableTarget(
      name: "asyncjobs-demo", dependencies: ["AsyncJobs"], path: "examples/asyncjobs-demo", swiftSettings: strict),

    // What several test targets share (a seeded random generator).
    .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
    .testTarget(name: "AsyncJobsTests", dependencies: ["AsyncJobs"], swiftSettings: strict),
    .testTarget(name: "SshClientTests", dependencies: ["SshClient", "Testbed", "TestSupport"], swiftSettings: strict),
    .testTarget(name: "SshJobsTests", dependencies: ["SshJobs", "Testbed", "TestSupport"], swiftSettings: strict),
    .testTarget(name: "TestbedTests", dependencies: ["Testbed"], swiftSettings: strict),
    .testTarget(name: "InventoryTests", dependencies: ["Inventory", "SshJobs", "TestSupport"], swiftSettings: strict),
    .testTarget(name: "APSSHCLITests", dependencies: ["APSSHCLI", "Testbed", "TestSupport"], swiftSettings: strict),
  ]
)
