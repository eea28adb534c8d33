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
