import Foundation
import TestSupport
import Testbed

@testable import SshJobs

/// Nodes on testbed hosts, fixture files, and small helpers.
enum Fleet {
  static func shared() async throws -> Testbed {
    try await Testbed.shared()
  }

  /// A node on host `index` of `testbed`, with the testbed's key and known_hosts (strict).
  static func node(
    _ testbed: Testbed, _ index: Int, formatter: (any OutputFormatter)? = nil, gateway: SshNode? = nil
  ) -> SshNode {
    let host = testbed.hosts[index]
    return SshNode(
      hostname: host.address, username: testbed.username, port: Int(host.port), keys: [testbed.userKeyPath],
      gateway: gateway, formatter: formatter ?? quiet, hostKeyPolicy: .strict, connectTimeout: .seconds(60),
      knownHostsPath: testbed.knownHostsPath, useAgent: false)
  }

  /// A formatter whose output is kept in memory (and ignored), so tests do not flood the console.
  static let quiet = HostFormatter(sink: BufferSink())

  /// Runs `jobs` in a fresh scheduler; returns its result.
  @discardableResult
  static func run(_ jobs: AbstractJob..., critical: Bool = false, jobsWindow: Int? = nil) async throws -> Bool {
    try await Scheduler(jobs, jobsWindow: jobsWindow, timeout: .seconds(60), critical: critical).run()
  }

  /// A fresh temporary directory.
  static func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "sshjobs-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// Writes the reference's fixture scripts into a temporary directory; returns it.
  static func scripts() throws -> String {
    let directory = try temporaryDirectory()
    let files = [
      "script-with-args.sh": """
      #!/bin/bash
      echo "ENTERING COMMAND $(basename $0) (full name $0)"
      for arg in "$@"; do echo "on HOST=$(hostname), with arg $arg - CWD=$(pwd -P)"; done
      """,
      "needsinclude.sh": """
      #!/bin/bash
      set -e
      source $(dirname "$BASH_SOURCE")/inclusion.sh
      echo "needsinclude: $(included_function) $# args: $*"
      """,
      "inclusion.sh": "included_function() { echo INCLUDED; }\n",
      "slow.sh": "#!/bin/sh\nsleep 0.3\necho \"slow $1\"\n",
    ]
    for (name, text) in files {
      try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
      chmod(directory + "/" + name, 0o755)
    }
    return directory
  }

  /// Polls `condition` every 20 ms until it holds or `limit` passes; returns whether it held.
  static func eventually(within limit: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
      if await condition() { return true }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
  }
}

extension SshJob {
  /// The result as an exit status.
  var exitStatus: ExitStatus? { result as? ExitStatus }
}
