import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Persistent testbeds for people (`aptestbed up/down/status`): started detached in a directory,
/// found again and stopped through its `testbed.json`.
public enum TestbedControl {
  /// The default directory: `$TMPDIR/apssh-testbed` (`/tmp/apssh-testbed` when TMPDIR is unset,
  /// and always as root, since the testbed login must be able to read it).
  public static var defaultDirectory: String {
    let environment = ProcessInfo.processInfo.environment
    var base = "/tmp"
    if !TestbedUser.runningAsRoot, let tmp = environment["TMPDIR"], !tmp.isEmpty { base = tmp }
    return (base as NSString).appendingPathComponent("apssh-testbed")
  }

  /// The state of the testbed recorded in a directory.
  public struct Status: Sendable, CustomStringConvertible {
    /// The recorded description.
    public var testbed: TestbedDescription
    /// The pids of its sshd processes that are running.
    public var alive: [Int32]

    /// Whether every recorded sshd runs.
    public var isRunning: Bool { !testbed.sshd.isEmpty && alive.count == testbed.sshd.count }

    /// A multi-line summary for people.
    public var description: String {
      var lines = [
        "testbed in \(testbed.directory): \(testbed.hosts.count) hosts on port \(testbed.port), "
          + "user \(testbed.user)",
        "sshd processes: \(alive.count) of \(testbed.sshd.count) running",
      ]
      for sshd in testbed.sshd {
        let state = alive.contains(sshd.pid) ? "running" : "stopped"
        let first = sshd.addresses.first ?? "", last = sshd.addresses.last ?? ""
        let span = first == last ? first : "\(first)–\(last)"
        lines.append("  pid \(sshd.pid) \(state): \(span) (\(sshd.role))")
      }
      return lines.joined(separator: "\n")
    }
  }

  /// Starts a persistent testbed of `hosts` hosts in `directory`; refuses if one still runs there.
  public static func up(hosts: Int, directory: String = defaultDirectory) async throws -> Testbed {
    if let status = try? status(directory: directory), !status.alive.isEmpty {
      throw TestbedError.directoryNotAccessible(
        "a testbed already runs in \(directory) (pids \(status.alive)); stop it with aptestbed down")
    }
    return try await Testbed.start(hosts: hosts, directory: directory, persistent: true)
  }

  /// Which sshd processes recorded in `directory/testbed.json` run.
  public static func status(directory: String = defaultDirectory) throws -> Status {
    let testbed = try TestbedDescription.load(directory: directory)
    return Status(testbed: testbed, alive: testbed.sshd.filter(isOurs).map(\.pid))
  }

  /// Stops the sshd processes recorded in `directory/testbed.json` (SIGTERM to each process
  /// group and the processes below, SIGKILL after 2 s). Returns the status afterwards.
  /// Only processes that are still that sshd (command line naming its configuration) are signalled.
  @discardableResult
  public static func down(directory: String = defaultDirectory) async throws -> Status {
    let testbed = try TestbedDescription.load(directory: directory)
    let running = testbed.sshd.filter(isOurs).map(\.pid)
    let descendants = ProcessTree.descendants(of: running)
    for pid in running { ProcessTree.signal(group: pid, and: [], SIGTERM) }
    for pid in descendants { kill(pid, SIGTERM) }
    if !(await waitGone(running, timeout: .seconds(2))) {
      for pid in running where ProcessTree.isAlive(pid) {
        ProcessTree.signal(group: pid, and: [], SIGKILL)
      }
      for pid in descendants where ProcessTree.isAlive(pid) { kill(pid, SIGKILL) }
      _ = await waitGone(running, timeout: .seconds(2))
    }
    return Status(testbed: testbed, alive: testbed.sshd.filter(isOurs).map(\.pid))
  }

  /// Whether the recorded process still runs and is that sshd.
  static func isOurs(_ sshd: TestbedDescription.Sshd) -> Bool {
    guard ProcessTree.isAlive(sshd.pid), let command = ProcessTree.commandLine(of: sshd.pid) else {
      return false
    }
    return command.contains("sshd") && command.contains(sshd.configPath)
  }

  private static func waitGone(_ pids: [Int32], timeout: Duration) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
      // Our own children (a persistent testbed started by this process) must be reaped.
      for pid in pids { _ = Subprocess.reapIfExited(pid) }
      if !pids.contains(where: ProcessTree.isAlive) { return true }
      if clock.now >= deadline { return false }
      try? await Task.sleep(for: .milliseconds(10))
    }
  }
}
