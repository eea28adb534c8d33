import Foundation
import Testbed
import Testing

@testable import SshJobs

/// Reference §3.2 scenarios 1–19 (basic jobs) and 46–50 (exit codes and signals) on the shared testbed.
@Suite struct BasicJobTests {
  /// Runs `job` alone in a non-critical scheduler; returns the scheduler's result.
  private func runOne(_ job: SshJob) async throws -> Bool {
    try await Fleet.run(job)
  }

  /// Scenarios 1–6: the forms of commands; `$(hostname)` expands remotely.
  @Test func commandForms() async throws {
    let testbed = try await Fleet.shared()
    let sink = BufferSink()
    let formatter = HostFormatter(sink: sink)
    let node = Fleet.node(testbed, 0, formatter: formatter)
    let jobs = [
      SshJob(node: node, command: "id"),
      SshJob(node: node, command: Run("echo", "s2 form", "$(hostname)"), label: "s2"),
      SshJob(node: node, commands: [Run("echo", "s3 form", "$(hostname)")]),
      SshJob(node: node, command: "echo s4 form $(hostname)"),
    ]
    #expect(try await Fleet.run(jobs[0], jobs[1], jobs[2], jobs[3]))
    for job in jobs { #expect(job.exitStatus == .code(0)) }
    let hostname = ProcessInfo.processInfo.hostName
    let out = sink.stdoutText
    let host = testbed.hosts[0].address
    #expect(out.contains("\(host):uid="))
    for form in ["s2", "s3", "s4"] {
      #expect(out.contains("\(host):\(form) form "), "\(out)")
    }
    #expect(!hostname.isEmpty)
  }

  /// Scenarios 7–10: RunScript with arguments and includes, mixed with Run.
  @Test func runScripts() async throws {
    let testbed = try await Fleet.shared()
    let scripts = try Fleet.scripts()
    let sink = BufferSink()
    let node = Fleet.node(testbed, 1, formatter: RawFormatter(sink: sink))
    let job = SshJob(
      node: node,
      commands: [
        RunScript(scripts + "/script-with-args.sh", "foo", "bar", "tutu"),
        RunScript(scripts + "/needsinclude.sh", "run1", includes: [scripts + "/inclusion.sh"]),
        Run("echo +++++; cat /etc/lsb-release-nonexistent; echo +++++"),
        RunScript(scripts + "/needsinclude.sh", "another", "run", includes: [scripts + "/inclusion.sh"]),
      ])
    #expect(try await runOne(job))
    #expect(job.exitStatus == .code(0))
    let lines = sink.stdoutText.split(separator: "\n").map(String.init)
    #expect(lines.first?.hasPrefix("ENTERING COMMAND script-with-args.sh-") == true)
    #expect(lines.filter { $0.contains("with arg ") }.count == 3)
    #expect(lines.contains("needsinclude: INCLUDED 1 args: run1"))
    #expect(lines.contains("needsinclude: INCLUDED 2 args: another run"))
    #expect(sink.stderrText.contains("lsb-release-nonexistent"))
  }

  /// Scenarios 11–12: RunString with arguments, a remote name and includes; quotes reach the shell.
  @Test func runStrings() async throws {
    let testbed = try await Fleet.shared()
    let scripts = try Fleet.scripts()
    let sink = BufferSink()
    let node = Fleet.node(testbed, 2, formatter: RawFormatter(sink: sink))
    let body = try String(contentsOfFile: scripts + "/needsinclude.sh", encoding: .utf8)
    let job = SshJob(
      node: node,
      commands: [
        RunString("#!/bin/bash\nfor arg in \"$@\"; do echo \"arg=$arg\"; done\n", "foo", "bar"),
        RunString(
          body, "some", "'more text'", remoteName: "run-script-sample.sh", includes: [scripts + "/inclusion.sh"]),
      ])
    #expect(try await runOne(job))
    #expect(sink.stdoutText == "arg=foo\narg=bar\nneedsinclude: INCLUDED 2 args: some more text\n")
  }

  /// Scenarios 14–15: a non-critical job goes on and returns the last failure; a critical one stops.
  @Test func failureLogic() async throws {
    let testbed = try await Fleet.shared()
    let sink = BufferSink()
    let node = Fleet.node(testbed, 3, formatter: HostFormatter(sink: sink))
    let lenient = SshJob(
      node: node, commands: [Run("false"), Run("exit 3"), Run("echo went-on")], critical: false)
    #expect(try await runOne(lenient))
    #expect(lenient.exitStatus == .code(3))
    #expect(sink.stdoutText.contains("went-on"))

    let strict = SshJob(node: node, commands: [Run("true"), Run("exit 7", label: "seven"), Run("echo never-printed")])
    #expect(try await !runOne(strict))
    let error = try #require(strict.error as? CommandFailedError)
    #expect(error.status == .code(7))
    #expect(error.command == "seven")
    #expect(error.index == 2)
    #expect(error.host == node.description)
    #expect("\(error)" == "command seven returned 7 on node \(node.userHost)")
    #expect(!sink.stdoutText.contains("never-printed"))
  }

  /// A critical failure mid-sequence aborts the scheduler: later jobs never run.
  @Test func criticalFailureStopsTheSequence() async throws {
    let testbed = try await Fleet.shared()
    let sink = BufferSink()
    let node = Fleet.node(testbed, 3, formatter: RawFormatter(sink: sink))
    let first = SshJob(node: node, command: "echo first")
    let second = SshJob(node: node, command: "exit 2", requires: [first])
    let third = SshJob(node: node, command: "echo third", requires: [second])
    let scheduler = Scheduler(JobSequence(first, second, third), critical: false)
    #expect(try await !scheduler.run())
    #expect(scheduler.failedCritical)
    #expect(first.exitStatus == .code(0))
    #expect(second.error is CommandFailedError)
    #expect(!third.isDone)
    #expect(sink.stdoutText == "first\n")
    #expect(await Fleet.eventually { await !node.connection.isConnected })
  }

  /// Scenario 16: Push then Pull, on one node and again on a new node.
  @Test func pushPullRoundTrip() async throws {
    let testbed = try await Fleet.shared()
    let local = try Fleet.temporaryDirectory()
    let remoteDirectory = "apssh-tests-" + UUID().uuidString
    let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)
    let contents = Data((0..<(1 << 20)).map { _ in letters.randomElement()! })
    try contents.write(to: URL(fileURLWithPath: local + "/random-20"))
    let job = SshJob(
      node: Fleet.node(testbed, 4),
      commands: [
        Run("mkdir -p \(remoteDirectory)"),
        Push(localPaths: [local + "/random-20"], remotePath: remoteDirectory),
        Pull(remotePaths: [remoteDirectory + "/random-20"], localPath: local + "/loopback-20"),
      ])
    #expect(try await runOne(job))
    #expect(try Data(contentsOf: URL(fileURLWithPath: local + "/loopback-20")) == contents)
    let again = SshJob(
      node: Fleet.node(testbed, 4),
      commands: [
        Pull(remotePaths: ["~/" + remoteDirectory + "/random-20"], localPath: local + "/again-20"),
        Run("rm -rf \(remoteDirectory)"),
      ])
    #expect(try await runOne(again))
    #expect(try Data(contentsOf: URL(fileURLWithPath: local + "/again-20")) == contents)
  }

  /// SFTP errors are thrown whatever `critical` says.
  @Test func missingFilesThrow() async throws {
    let testbed = try await Fleet.shared()
    let node = Fleet.node(testbed, 4)
    let pull = SshJob(
      node: node, command: Pull(remotePaths: ["no-such-file-here"], localPath: "/tmp/x"), critical: false)
    let script = SshJob(node: node, command: RunScript("/no/such/script.sh"), critical: false)
    #expect(try await Fleet.run(pull, script))
    #expect(pull.error is SshError)
    let error = try #require(script.error as? CommandError)
    #expect(error.message.contains("/no/such/script.sh not found"))
  }

  /// Scenarios 17–18: LocalNode commands, streamed as they come; local signals are names.
  @Test func localCommands() async throws {
    let directory = try Fleet.temporaryDirectory()
    let sink = BufferSink()
    let node = LocalNode(formatter: HostFormatter(sink: sink))
    let job = SshJob(
      node: node,
      commands: [
        Run("head -c 262144 < /dev/zero > \(directory)/RANDOM"), Run("wc -c < \(directory)/RANDOM"),
        Run("for i in $(seq 3); do echo line $i; sleep 0.1; done"), Run("echo oops >&2"),
        Run("kill -TERM $$", allowedExits: ["TERM"]),
        RunString("#!/bin/sh\necho string \"$1\"\n", "local"),
      ])
    #expect(try await Fleet.run(job))
    #expect(job.exitStatus == .code(0))
    #expect(
      sink.stdoutText
        == "LOCALNODE:262144\nLOCALNODE:line 1\nLOCALNODE:line 2\nLOCALNODE:line 3\nLOCALNODE:string local\n")
    #expect(sink.stderrText == "LOCALNODE:oops\n")
    let killed = SshJob(node: node, command: "kill -KILL $$", critical: false)
    #expect(try await Fleet.run(killed))
    #expect(killed.exitStatus == .signal("KILL"))
  }

  /// Scripts installed on a LocalNode are private while they run and removed afterwards, unless
  /// `keepScript`.
  @Test func localScriptsAreRemoved() async throws {
    let name = "local-\(UUID().uuidString.prefix(8)).sh"
    let workdir = (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + "/.apssh-remote"
    func left() -> [String] {
      ((try? FileManager.default.contentsOfDirectory(atPath: workdir)) ?? []).filter { $0.hasPrefix(name) }
    }
    let sink = BufferSink()
    let node = LocalNode(formatter: HostFormatter(sink: sink))
    let job = SshJob(
      node: node,
      commands: [
        RunString("#!/bin/sh\nstat -c %a \"$0\" \"$(dirname \"$0\")\"\n", remoteName: name),
        RunString("exit 3", remoteName: name, allowedExits: [3]),
      ])
    #expect(try await Fleet.run(job))
    #expect(sink.stdoutText == "LOCALNODE:700\nLOCALNODE:700\n")
    #expect(left().isEmpty, "\(left())")
    let kept = SshJob(node: node, command: RunString("true", remoteName: name, keepScript: true))
    #expect(try await Fleet.run(kept))
    #expect(left().count == 1)
    for file in left() { try FileManager.default.removeItem(atPath: workdir + "/" + file) }
  }

  /// Scenario 19: verbose commands report what they do on stderr; Push/Pull then a local diff.
  @Test func verboseCommands() async throws {
    let testbed = try await Fleet.shared()
    let scripts = try Fleet.scripts()
    let local = try Fleet.temporaryDirectory()
    try "0123456789".write(toFile: local + "/dummy-10", atomically: true, encoding: .utf8)
    let sink = BufferSink()
    let node = Fleet.node(testbed, 5, formatter: RawFormatter(sink: sink))
    let remote = SshJob(
      node: node,
      commands: [
        Run("hostname"), RunScript(scripts + "/script-with-args.sh", "arg1", "arg2"),
        RunString("for i in $(seq 3); do echo verbose$i; done"),
        Push(localPaths: [local + "/dummy-10"], remotePath: "dummy-10-\(UUID().uuidString)"),
      ], verbose: true)
    let check = SshJob(
      node: LocalNode(formatter: Fleet.quiet), command: Run("test -s \(local)/dummy-10", verbose: true))
    #expect(try await Scheduler(JobSequence(remote, check), critical: false).run())
    #expect(check.exitStatus == .code(0))
    let stderr = sink.stderrText
    #expect(stderr.contains("Run: -> hostname\n"))
    #expect(stderr.contains("Run: 0 <- hostname\n"))
    #expect(stderr.contains("RunScript: -> bash -x .apssh-remote/script-with-args.sh-"))
    #expect(stderr.contains("RunString: pushing script into .apssh-remote/script-"))
    #expect(stderr.contains("+ echo verbose1"))
    #expect(stderr.contains("Push done\n"))
    #expect(sink.stdoutText.contains("verbose3\n"))
  }

  /// Scenarios 46–50: exit signals and codes against `allowedExits`.
  @Test(arguments: [
    ([AllowedExit](), "kill -TERM $$", false), (["TERM"], "kill -TERM $$", true),
    (["TERM", 100], "kill -TERM $$", true),
    ([100], "kill -TERM $$", false), ([], "exit 1000", false), ([100], "exit 1000", false),
    (["TERM", 100], "exit 1000", false), ([232], "exit 1000", true), ([100], "exit 100", true),
  ])
  func allowedExits(allowed: [AllowedExit], command: String, expected: Bool) async throws {
    let testbed = try await Fleet.shared()
    let job = SshJob(node: Fleet.node(testbed, 6), command: Run(command, allowedExits: allowed))
    #expect(try await Fleet.run(job) == expected)
    if !expected {
      let error = try #require(job.error as? CommandFailedError)
      #expect(error.status == (command.hasPrefix("kill") ? .signal("TERM") : .code(232)))
    }
  }

  /// A `sleep` killed from another job on the same node (the reference's scenario 46, with a
  /// pattern unique to this test).
  @Test func signalFromAParallelJob() async throws {
    let testbed = try await Fleet.shared()
    let node = Fleet.node(testbed, 6)
    let marker = "\(Int.random(in: 100...999)).\(Int.random(in: 100_000...999_999))"
    let sleeper = SshJob(node: node, command: Run("sleep \(marker)", allowedExits: ["TERM", 143]))
    // The killer waits for the sleeper to run (at most 30 s), however long it takes to start.
    let killer = SshJob(
      node: node,
      command: "for i in $(seq 600); do pgrep -f 'slee[p] \(marker)' >/dev/null && break; sleep 0.05; done; "
        + "pkill -TERM -f 'slee[p] \(marker)'")
    #expect(
      try await Fleet.run(sleeper, killer), "\(String(describing: sleeper.error)) \(String(describing: killer.error))")
    #expect(sleeper.exitStatus == .code(0))
  }
}
