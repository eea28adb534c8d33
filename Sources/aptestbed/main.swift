import ArgumentParser
import Foundation
import Testbed

/// `aptestbed`: start, stop and inspect a persistent local testbed of sshd hosts.
@main
struct Aptestbed: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "aptestbed",
    abstract: "A local fleet of real sshd hosts on loopback (127.0.0.2, 127.0.0.3, …).",
    discussion: """
      The testbed directory defaults to $TMPDIR/apssh-testbed (/tmp/apssh-testbed as root or \
      without TMPDIR). It holds inventory.yaml, hosts, known_hosts, ssh_config and testbed.json; \
      try: ssh -F DIR/ssh_config 127.0.0.2 hostname
      """,
    subcommands: [Up.self, Down.self, Status.self])
}

/// Options shared by the subcommands.
struct DirectoryOption: ParsableArguments {
  @Option(name: .long, help: "The testbed directory.")
  var dir: String = TestbedControl.defaultDirectory
}

extension Aptestbed {
  /// `aptestbed up N`.
  struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Start N hosts; the sshd processes keep running after aptestbed exits.")

    @Argument(help: "Number of hosts.")
    var hosts: Int = 16

    @OptionGroup var options: DirectoryOption

    func run() async throws {
      let testbed: Testbed
      do {
        testbed = try await TestbedControl.up(hosts: hosts, directory: options.dir)
      } catch let error as TestbedError {
        // A directory that cannot or must not be used is an input error (exit 2).
        switch error {
        case .unsafeDirectory, .directoryNotAccessible, .invalidHostCount:
          FileHandle.standardError.write(Data("aptestbed: \(error)\n".utf8))
          throw ExitCode(2)
        default: throw error
        }
      }
      let first = testbed.hosts.first?.address ?? ""
      let last = testbed.hosts.last?.address ?? ""
      print(
        """
        testbed up: \(testbed.hosts.count) hosts \(first)–\(last) port \(testbed.port), \
        user \(testbed.username), \(testbed.sshdPids.count) sshd processes
        directory:  \(testbed.directory)
        inventory:  \(testbed.inventoryPath)
        targets:    \(testbed.hostsFilePath)
        try:        ssh -F \(testbed.sshConfigPath) \(first) hostname
        stop with:  aptestbed down --dir \(testbed.directory)
        """)
    }
  }

  /// `aptestbed down`.
  struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop the testbed's sshd processes.")

    @OptionGroup var options: DirectoryOption

    func run() async throws {
      let status = try await TestbedControl.down(directory: options.dir)
      if status.alive.isEmpty {
        print("testbed in \(options.dir) stopped (\(status.testbed.sshd.count) sshd processes)")
      } else {
        print(status)
        throw ExitCode.failure
      }
    }
  }

  /// `aptestbed status`.
  struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Say which sshd processes of the testbed run (exit 0 only if all do).")

    @OptionGroup var options: DirectoryOption

    func run() async throws {
      let status = try TestbedControl.status(directory: options.dir)
      print(status)
      if !status.isRunning { throw ExitCode(3) }
    }
  }
}
