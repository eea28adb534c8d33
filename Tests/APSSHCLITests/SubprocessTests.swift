import Foundation
import Testbed
import Testing

/// The built executables as subprocesses: exit codes, Ctrl-C, no progress without a terminal,
/// `-d`, and the example programs.
@Suite struct SubprocessTests {
  @Test func exitCodes() async throws {
    let fleet = try await Fleet.shared()
    let ok = try await ChildProcess.run("apssh", fleet.auth + fleet.targets([8]) + ["true"])
    #expect(ok.code == 0, "\(ok.stderr)")
    #expect(!ok.stderr.contains("\u{1B}"), "no progress line when stderr is not a terminal")
    let failed = try await ChildProcess.run("apssh", fleet.auth + fleet.targets([8]) + ["false"])
    #expect(failed.code == 1)
    let usage = try await ChildProcess.run("apssh", ["--no-such-option"])
    #expect(usage.code == 2)
    #expect(usage.stderr.contains("--no-such-option"))
    let push = try await ChildProcess.run("appush", ["-t", "h", "x", "y"])
    #expect(push.code == 2)
    let pull = try await ChildProcess.run("appull", ["-V"])
    #expect(pull.stdout.hasPrefix("appull version"))
  }

  @Test func dateTimeDirectoryInWorkingDirectory() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let child = try ChildProcess(
      "apssh", fleet.auth + fleet.targets([9]) + ["-d", "echo", "dated"], directory: directory)
    let result = try await child.start().value
    #expect(result.code == 0, "\(result.stderr)")
    let name = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(name.contains("@"))
    let text = try String(contentsOfFile: "\(directory)/\(name)/\(fleet.address(9))", encoding: .utf8)
    #expect(text == "dated\n")
  }

  @Test func interruptStopsRemoteCommandsAndClosesConnections() async throws {
    let testbed = try await Testbed.start(hosts: 2)
    defer { testbed.stopSynchronously() }
    let marker = "sleep 29.\(Int.random(in: 100...999))"
    let child = try ChildProcess(
      "apssh",
      [
        "-k", testbed.userKeyPath, "--known-hosts", testbed.knownHostsPath, "-t",
        testbed.targets.joined(separator: ","), marker,
      ])
    let finished = try child.start()
    // Wait until both remote commands run.
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline, try await remoteCount(marker) < 2 {
      try await Task.sleep(for: .milliseconds(100))
    }
    #expect(try await remoteCount(marker) == 2)
    let interruptedAt = ContinuousClock.now
    child.process.interrupt()
    let result = await finished.value
    #expect(result.code == 130, "\(result.stderr)")
    // Stopping takes up to a few seconds of remote kills and closes: generous on a loaded machine.
    #expect(ContinuousClock.now - interruptedAt < .seconds(15))
    #expect(result.stderr.contains("interrupted"))
    // Nothing left running remotely, nothing left connected.
    let settle = ContinuousClock.now + .seconds(5)
    while ContinuousClock.now < settle,
      try await remoteCount(marker) > 0 || ConnectionCounter.establishedConnections(localPort: testbed.port) > 0
    {
      try await Task.sleep(for: .milliseconds(100))
    }
    #expect(try await remoteCount(marker) == 0)
    #expect(ConnectionCounter.establishedConnections(localPort: testbed.port) == 0)
  }

  /// How many processes run exactly `command` (the testbed's hosts are local processes).
  private func remoteCount(_ command: String) async throws -> Int {
    let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { Int($0) != nil }
    return entries.filter { pid in
      guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
      let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      return words.joined(separator: " ") == command
    }.count
  }

  @Test func sshDemoExampleRuns() async throws {
    let result = try await ChildProcess.run("ssh-demo", [])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(result.stdout.contains("after the run: success"))
    #expect(result.stdout.contains("all 4 hosts answered"))
  }

  @Test func asyncJobsDemoExampleRuns() async throws {
    let svg = temporaryDirectory() + "/demo.svg"
    let result = try await ChildProcess.run("asyncjobs-demo", [svg])
    #expect(result.code == 0, "\(result.stderr)")
  }
}
