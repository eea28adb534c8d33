import Foundation
import Testbed
import Testing

@testable import SshJobs

/// Capture and variables (scenarios 13, 54–56, 58), concurrency on one node, a host that is down.
@Suite struct ConcurrencyTests {
  /// Scenarios 13 and 58: a CaptureFormatter on the node collects stdout.
  @Test func captureFormatter() async throws {
    let testbed = try await Fleet.shared()
    let formatter = CaptureFormatter(sink: BufferSink())
    let node = Fleet.node(testbed, 7, formatter: formatter)
    let job = SshJob(node: node, commands: [Run("echo LINE1"), Run("echo LINE2")])
    formatter.startCapture()
    #expect(try await Fleet.run(job))
    #expect(formatter.capture == "LINE1\nLINE2\n")
  }

  /// Scenarios 54–56: variables in commands, and a capture feeding a later job.
  @Test func captureChainsIntoLaterCommands() async throws {
    let testbed = try await Fleet.shared()
    let sink = BufferSink()
    let node = Fleet.node(testbed, 7, formatter: HostFormatter(sink: sink))
    let env = Variables(["fetched": "a simple variable"])
    let first = SshJob(
      node: node,
      commands: [
        Run("echo fetched = {{fetched}}", capture: Capture("deferred", in: env)),
        Run("echo from-first-run", capture: Capture("run1", in: env)),
      ])
    let second = SshJob(
      node: node, command: Run("echo {{run1}}-again", capture: Capture("final", in: env)), requires: [first])
    let third = SshJob(node: node, command: Run("echo visible {{final}}", variables: env), requires: [second])
    #expect(try await Fleet.run(first, second, third))
    #expect(env["deferred"] == "fetched = a simple variable")
    #expect(env["run1"] == "from-first-run")
    #expect(env["final"] == "from-first-run-again")
    #expect(sink.stdoutText == "\(node.hostname):visible from-first-run-again\n")
  }

  /// Captures are per command: jobs running at once on one node never steal each other's output.
  @Test func concurrentCapturesDoNotMix() async throws {
    let testbed = try await Fleet.shared()
    let sink = BufferSink()
    let node = Fleet.node(testbed, 8, formatter: RawFormatter(sink: sink))
    let env = Variables()
    let jobs = (0..<6).map { index in
      SshJob(
        node: node,
        commands: [
          Run("for i in 1 2 3; do echo job\(index)-$i; sleep 0.05; done", capture: Capture("v\(index)", in: env)),
          Run("echo printed\(index)"),
        ])
    }
    #expect(try await Fleet.run(jobs))
    for index in 0..<6 { #expect(env["v\(index)"] == "job\(index)-1\njob\(index)-2\njob\(index)-3") }
    #expect(Set(sink.stdoutText.split(separator: "\n")) == Set((0..<6).map { "printed\($0)" }))
  }

  /// 10 jobs on one node with a window of 3: never more than 3 at once, all on one connection.
  @Test func jobsWindowOnOneNode() async throws {
    let testbed = try await Fleet.shared()
    let node = Fleet.node(testbed, 9)
    let marker = "/tmp/sshjobs-window-\(UUID().uuidString)"
    // Each job notes its start and end times (ns) in its own file, then sleeps.
    let jobs = (0..<10).map { index in
      SshJob(node: node, command: "date +%s%N > \(marker)-\(index); sleep 0.3; date +%s%N >> \(marker)-\(index)")
    }
    let start = ContinuousClock.now
    #expect(try await Fleet.run(jobs, jobsWindow: 3))
    let elapsed = ContinuousClock.now - start
    #expect(elapsed >= .seconds(1.2))  // ceil(10 / 3) rounds of 0.3 s
    var intervals: [(Int, Int)] = []
    for index in 0..<10 {
      let times = try String(contentsOfFile: "\(marker)-\(index)", encoding: .utf8).split(separator: "\n").compactMap {
        Int($0)
      }
      intervals.append((times[0], times[1]))
      try? FileManager.default.removeItem(atPath: "\(marker)-\(index)")
    }
    let peak = intervals.map { interval in intervals.count { $0.0 <= interval.0 && interval.0 < $0.1 } }.max()
    // Never more than the window; and some overlap (a loaded machine may start them a bit apart).
    #expect(peak.map { (2...3).contains($0) } == true, "\(String(describing: peak))")
    #expect(await node.connection.connectionCount == 1)
    #expect(await !node.connection.isConnected)
  }

  /// The same script run 8 times at once on one host: unique remote names, no collision.
  @Test func runScriptInParallel() async throws {
    let testbed = try await Fleet.shared()
    let scripts = try Fleet.scripts()
    let sink = BufferSink()
    let node = Fleet.node(testbed, 10, formatter: RawFormatter(sink: sink))
    let jobs = (0..<8).map { index in
      SshJob(
        node: node,
        commands: [
          RunScript(scripts + "/slow.sh", "\(index)"),
          RunScript(scripts + "/needsinclude.sh", "\(index)", includes: [scripts + "/inclusion.sh"]),
        ])
    }
    #expect(try await Fleet.run(jobs))
    let lines = Set(sink.stdoutText.split(separator: "\n").map(String.init))
    #expect(lines == Set((0..<8).flatMap { ["slow \($0)", "needsinclude: INCLUDED 1 args: \($0)"] }))
    #expect(sink.stderrText.isEmpty)
    #expect(await node.connection.connectionCount == 1)
  }

  /// A host that is down among good ones: its job fails with a clear error, the others finish.
  @Test func hostDownAmongGoodOnes() async throws {
    let testbed = try await Fleet.shared()
    let refusing = try testbed.refusingEndpoint()
    let sink = BufferSink()
    let formatter = HostFormatter(sink: sink)
    let good = (11..<14).map { Fleet.node(testbed, $0, formatter: formatter) }
    let down = SshNode(
      hostname: refusing.address, username: testbed.username, port: Int(refusing.port), keys: [testbed.userKeyPath],
      formatter: formatter, connectTimeout: .seconds(5), knownHostsPath: testbed.knownHostsPath, useAgent: false)
    let goodJobs = good.map { SshJob(node: $0, command: "echo alive", critical: false) }
    let downJob = SshJob(node: down, command: "echo never", critical: false)
    #expect(try await Fleet.run(goodJobs + [downJob]))
    for job in goodJobs { #expect(job.exitStatus == .code(0)) }
    let error = try #require(downJob.error as? SshError)
    #expect(error.code == .connectionRefused)
    #expect(sink.stdoutText.split(separator: "\n").count == 3)
    #expect(sink.stderrText.contains("Connection failed to \(testbed.username)@\(refusing.address) : "))
  }
}

extension Fleet {
  /// Runs jobs in a fresh scheduler.
  @discardableResult
  static func run(_ jobs: [SshJob], jobsWindow: Int? = nil) async throws -> Bool {
    try await Scheduler(jobs, jobsWindow: jobsWindow, timeout: .seconds(60), critical: false).run()
  }
}
