import Foundation
import Synchronization
import Testing

@testable import SshJobs

/// The run layer without a server: node precedence, requirement checks, outcomes of local jobs.
@Suite struct NodeFactoryTests {
  let quiet = HostFormatter(sink: BufferSink())

  @Test func precedenceOfKeysAgentUserAndPort() {
    let bare = NodeFactory(settings: RunSettings(defaultUser: "deflt"), formatter: { _ in quiet })
    let plain = bare.configuration(for: .ssh("h1"))
    #expect(plain.username == "deflt" && plain.port == 22)
    #expect(plain.keyPaths == nil, "the default key files")
    #expect(plain.useAgent)

    let inventoryKey = bare.configuration(for: .ssh("h1", user: "alice", port: 2222, keys: ["/keys/inventory"]))
    #expect(inventoryKey.username == "alice" && inventoryKey.port == 2222)
    #expect(inventoryKey.keyPaths == ["/keys/inventory"])
    #expect(inventoryKey.useAgent, "a node's own key does not turn the agent off")

    let withK = NodeFactory(
      settings: RunSettings(
        keys: ["/keys/cli"], defaultUser: "deflt", connectTimeout: .seconds(7), connectionAttempts: 3),
      formatter: { _ in quiet })
    let both = withK.configuration(for: .ssh("h1", keys: ["/keys/inventory", "/keys/cli"]))
    #expect(both.keyPaths == ["/keys/cli", "/keys/inventory"], "-k first, then the node's own, once each")
    #expect(!both.useAgent, "-k means these keys")
    #expect(both.connectTimeout == .seconds(7) && both.connectionAttempts == 3)
  }

  @Test func oneNodePerHost() {
    let factory = NodeFactory(settings: RunSettings(defaultUser: "u"), formatter: { _ in quiet })
    let gateway = NodeSpec.ssh("gw")
    let first = factory.node(for: .ssh("h1", name: "first"))
    #expect(factory.node(for: .ssh("h1", user: "u", port: 22, name: "same host, other name")) === first)
    #expect(factory.node(for: .ssh("h1", user: "v")) !== first)
    #expect(factory.node(for: .ssh("h1", port: 2222)) !== first)
    let behind = factory.node(for: .ssh("h2", gateway: gateway)) as? SshNode
    let behindToo = factory.node(for: .ssh("h3", gateway: gateway)) as? SshNode
    #expect(behind?.gateway != nil && behind?.gateway === behindToo?.gateway, "one gateway node")
    #expect(factory.node(for: .local) === factory.node(for: .local))
  }
}

@Suite struct RunnerTests {
  let quiet = HostFormatter(sink: BufferSink())

  func runner(_ jobs: [JobSpec], settings: RunSettings = RunSettings(), timeout: Duration? = nil) throws -> Runner {
    try Runner(
      spec: RunSpec(label: "test", jobs: jobs, timeout: timeout), settings: settings, formatter: { _ in quiet })
  }

  func local(_ name: String, _ command: String, requires: [String] = [], critical: Bool = false, forever: Bool = false)
    -> JobSpec
  {
    JobSpec(
      name: name, node: .local, commands: [Run(command)], requires: requires, critical: critical, forever: forever)
  }

  @Test func unknownRequirementsAndCyclesAreRefused() {
    let at = { (line: Int) in SourceLocation(file: "f.yaml", line: line) }
    var a = local("a", "true", requires: ["ghost"])
    a.location = at(3)
    #expect {
      try runner([a])
    } throws: { error in
      guard case .unknownRequirement(let job, let requirement, let location, _) = error as? RunSpecError else {
        return false
      }
      return job == "a" && requirement == "ghost" && location == at(3)
    }
    var b = local("b", "true", requires: ["c"])
    b.location = at(5)
    var c = local("c", "true", requires: ["d"])
    c.location = at(9)
    var d = local("d", "true", requires: ["b"])
    d.location = at(12)
    #expect {
      try runner([local("x", "true"), b, c, d])
    } throws: { error in
      guard let error = error as? RunSpecError, case .cycle(let jobs) = error else { return false }
      return jobs.map(\.job) == ["b", "c", "d"] && error.description.contains("'b' (line 5) requires 'c' (line 9)")
    }
  }

  @Test func onlyForeverJobsNeedATimeLimit() throws {
    var ticker = local("ticker", "sleep 100", forever: true)
    ticker.location = SourceLocation(file: "f.yaml", line: 4)
    #expect {
      try runner([ticker, local("other", "sleep 100", forever: true)])
    } throws: { error in
      guard let error = error as? RunSpecError, case .onlyForever(let location) = error else { return false }
      return location?.line == 4 && error.description.contains("timeout:")
    }
    _ = try runner([ticker], timeout: .seconds(10))
    _ = try runner([ticker, local("finite", "true")])
  }

  @Test func outcomesOfEveryKind() async throws {
    let directory = NSTemporaryDirectory() + "runner-\(UUID().uuidString)"
    let jobs = [
      local("ok", "true"),
      local("fails", "exit 3"),
      JobSpec(
        name: "broken", node: .local, commands: [RunScript(localPath: directory + "/missing.sh", args: [])],
        critical: false),
      local("after", "true", requires: ["fails"]),
      local("monitor", "while true; do sleep 0.05; done", forever: true),
    ]
    let events = Log()
    let outcome = try await runner(jobs).run { event in events.append("\(event)") }
    let statuses = outcome.jobs.map(\.status)
    #expect(statuses == [.ok, .failed(.code(3)), statuses[2], .ok, .ok])
    guard case .error(let message) = statuses[2] else {
      Issue.record("expected an error for the missing script, got \(statuses[2])")
      return
    }
    #expect(message.contains("missing.sh"))
    #expect(!outcome.succeeded && !outcome.interrupted && !outcome.timedOut)
    #expect(outcome.failures.map(\.spec.name) == ["fails", "broken"])
    #expect(outcome.jobs.allSatisfy { $0.start != nil && $0.end != nil && $0.hostname == "LOCALNODE" })
    // Each job's start comes before its end; a job requiring another starts after it ended.
    let all = events.all
    for index in 0..<jobs.count {
      let start = try #require(all.firstIndex(of: "started(job: \(index))"))
      let end = try #require(all.firstIndex { $0.hasPrefix("ended(job: \(index),") })
      #expect(start < end)
    }
    #expect(
      try #require(all.firstIndex { $0.hasPrefix("ended(job: 1,") }) < #require(all.firstIndex(of: "started(job: 3)")))
  }

  @Test func aCriticalFailureSkipsWhatWaitsAndCancelsWhatRuns() async throws {
    let outcome = try await runner([
      local("boom", "exit 4", critical: true),
      local("long", "sleep 120"),
      local("later", "true", requires: ["boom"]),
    ]).run()
    #expect(outcome.jobs.map(\.status) == [.failed(.code(4)), .cancelled, .skipped])
    #expect(!outcome.succeeded)
  }

  @Test func theCommandTimeoutOfTheSettingsAppliesToEveryCommand() async throws {
    let start = ContinuousClock.now
    let outcome = try await runner(
      [
        local("slow", "sleep 120"),
        JobSpec(name: "own", node: .local, commands: [Run("sleep 120", timeout: .milliseconds(200))], critical: false),
      ],
      settings: RunSettings(commandTimeout: .milliseconds(300))
    ).run()
    for job in outcome.jobs {
      guard case .error(let message) = job.status else {
        Issue.record("\(job.spec.name): \(job.status)")
        continue
      }
      #expect(message.contains("timed out after"))
    }
    #expect(outcome.jobs[1].errorMessage?.contains("200ms") == true, "a command's own limit wins")
    #expect(ContinuousClock.now - start < .seconds(60), "did not wait for the commands")
  }

  @Test func cancellingTheRunInterruptsIt() async throws {
    let started = AsyncStream<Void>.makeStream()
    let runner = try runner([local("a", "sleep 120"), local("b", "sleep 120")])
    let run = Task {
      await runner.run { event in if case .started = event { started.continuation.yield() } }
    }
    var count = 0
    for await _ in started.stream {
      count += 1
      if count == 2 { break }
    }
    run.cancel()
    let outcome = await run.value
    #expect(outcome.interrupted)
    #expect(outcome.jobs.map(\.status) == [.cancelled, .cancelled])
  }

  @Test func theRunTimeoutStopsIt() async throws {
    let outcome = try await runner([local("a", "sleep 120")], timeout: .milliseconds(200)).run()
    #expect(outcome.timedOut && !outcome.interrupted)
    #expect(outcome.jobs.first?.status == .cancelled)
  }
}

/// A thread-safe log of strings.
final class Log: Sendable {
  private let lines = Mutex<[String]>([])
  func append(_ line: String) { lines.withLock { $0.append(line) } }
  var all: [String] { lines.withLock { $0 } }
}
