import Foundation
import SshClient
import Testbed
import Testing

@testable import SshJobs

/// Reference §3.2 scenarios 37–45: connection sharing and closing, counted from the testbed side
/// (established TCP connections to a dedicated testbed's port, which no other test uses).
@Suite(.serialized) struct ConnectionTests {
  /// How the jobs of a topology are put in schedulers.
  enum Packing: Sendable, CustomStringConvertible {
    case flat
    /// `levels` of nesting, `pack` jobs per innermost scheduler.
    case nested(levels: Int, pack: Int)

    var description: String {
      switch self {
      case .flat: return "flat"
      case .nested(let levels, let pack): return "nested\(levels)\(pack)"
      }
    }

    func scheduler(_ jobs: [SshJob], probe: Job? = nil) -> Scheduler {
      switch self {
      case .flat:
        return Scheduler(jobs + (probe.map { [$0] } ?? []), timeout: .seconds(30), critical: false)
      case .nested(let levels, let pack):
        var groups: [AbstractJob] = stride(from: 0, to: jobs.count, by: pack).map { start in
          var inner: AbstractJob = Scheduler(Array(jobs[start..<min(start + pack, jobs.count)]))
          for _ in 1..<levels { inner = Scheduler(inner) }
          return inner
        }
        if let probe { groups.append(probe) }
        return Scheduler(groups, timeout: .seconds(30), critical: false)
      }
    }
  }

  /// A topology: `gateways` gateways (0 for direct nodes), `nodes` nodes (per gateway), `jobs` per node.
  struct Topology: Sendable, CustomStringConvertible {
    var gateways: Int
    var nodes: Int
    var jobs: Int
    var expected: Int { gateways == 0 ? nodes : gateways * (nodes + 1) }
    var description: String { "\(gateways)gw×\(nodes)n×\(jobs)j" }
  }

  static let topologies = [
    Topology(gateways: 0, nodes: 1, jobs: 4), Topology(gateways: 0, nodes: 4, jobs: 1),
    Topology(gateways: 0, nodes: 4, jobs: 4), Topology(gateways: 1, nodes: 1, jobs: 2),
    Topology(gateways: 1, nodes: 2, jobs: 1), Topology(gateways: 2, nodes: 1, jobs: 1),
    Topology(gateways: 2, nodes: 2, jobs: 2),
  ]
  static let packings: [Packing] = [.flat, .nested(levels: 1, pack: 1), .nested(levels: 2, pack: 2)]

  /// Builds the nodes and jobs of `topology` on `testbed` (hosts reused across nodes, as the
  /// reference does with one host).
  private func build(_ topology: Topology, on testbed: Testbed, keep: Bool, probe: (any Command)? = nil)
    -> (jobs: [SshJob], nodes: [SshNode])
  {
    var jobs: [SshJob] = []
    var nodes: [SshNode] = []
    var hostIndex = 0
    func nextHost() -> Int {
      defer { hostIndex += 1 }
      return hostIndex % testbed.hosts.count
    }
    let gateways: [SshNode?] =
      topology.gateways == 0 ? [nil] : (0..<topology.gateways).map { _ in Fleet.node(testbed, nextHost()) }
    for gateway in gateways {
      if let gateway { nodes.append(gateway) }
      for _ in 0..<topology.nodes {
        let node = Fleet.node(testbed, nextHost(), gateway: gateway)
        nodes.append(node)
        for index in 0..<topology.jobs {
          let commands: [any Command] = [Run("echo hop \(index)")] + (probe.map { [$0] } ?? [])
          jobs.append(SshJob(node: node, commands: commands, keepConnection: keep))
        }
      }
    }
    return (jobs, nodes)
  }

  private func established(_ testbed: Testbed) -> Int { testbed.establishedConnections() }

  @Test func connectionCounts() async throws {
    let testbed = try await Testbed.start(hosts: 8)
    defer { testbed.stopSynchronously() }
    #expect(established(testbed) == 0)
    for topology in Self.topologies {
      for packing in Self.packings {
        // Without keepConnection: all open while the jobs run (sampled once every job has reached
        // its probe, holding its node), all closed when run() returns.
        let seen = SeenCount()
        let barrier = Barrier(count: topology.gateways.clamped(min: 1) * topology.nodes * topology.jobs) {
          seen.set(testbed.establishedConnections())
        }
        let (jobs, _) = build(topology, on: testbed, keep: false, probe: BarrierProbe(barrier: barrier))
        let scheduler = packing.scheduler(jobs)
        #expect(try await scheduler.run(), "\(topology) \(packing) \(scheduler.debrief())")
        #expect(seen.value == topology.expected, "\(topology) \(packing): open while running")
        #expect(
          await Fleet.eventually { established(testbed) == 0 }, "\(topology) \(packing): closed after run()")

        // With keepConnection: still open after run(), closed by closeConnections(in:).
        let kept = build(topology, on: testbed, keep: true)
        let keeping = packing.scheduler(kept.jobs)
        #expect(try await keeping.run(), "\(topology) \(packing) kept")
        #expect(established(testbed) == topology.expected, "\(topology) \(packing): kept open")
        await closeConnections(in: keeping)
        #expect(await Fleet.eventually { established(testbed) == 0 }, "\(topology) \(packing): closed")
        for node in kept.nodes { #expect(await !node.connection.isConnected) }
      }
    }
  }

  /// Scenario 45: a chain of 4 nodes, each the gateway of the next, one job per node.
  @Test func gatewayChain() async throws {
    let testbed = try await Testbed.start(hosts: 4)
    defer { testbed.stopSynchronously() }
    for keep in [false, true] {
      var nodes: [SshNode] = []
      for index in 0..<4 { nodes.append(Fleet.node(testbed, index, gateway: nodes.last)) }
      let seen = SeenCount()
      let barrier = Barrier(count: nodes.count) { seen.set(testbed.establishedConnections()) }
      let jobs = nodes.map { node in
        SshJob(
          node: node, commands: [Run("echo depth \(node.distance)"), BarrierProbe(barrier: barrier)],
          keepConnection: keep)
      }
      let scheduler = Scheduler(jobs, timeout: .seconds(30), critical: false)
      #expect(try await scheduler.run())
      #expect(seen.value == 4)
      #expect(nodes.map(\.distance) == [1, 2, 3, 4])
      if keep {
        #expect(established(testbed) == 4)
        await closeConnections(in: scheduler)
      }
      #expect(await Fleet.eventually { established(testbed) == 0 })
      for job in jobs { #expect(job.exitStatus == .code(0)) }
    }
  }

  /// A node's connection closes as soon as its last job is done (not at the end of the run), so a
  /// jobs window bounds the connections open at once; a node that a later job still needs stays.
  @Test func windowBoundsConnections() async throws {
    let testbed = try await Testbed.start(hosts: 6)
    defer { testbed.stopSynchronously() }
    let nodes = (0..<6).map { Fleet.node(testbed, $0) }
    let most = SeenCount()
    most.set(0)
    let jobs = nodes.map { node in
      SshJob(
        node: node,
        commands: [
          Run("echo on"),
          Sample {
            var open = 0
            for node in nodes where await node.connection.isConnected { open += 1 }
            most.raise(to: open)
          },
        ])
    }
    #expect(try await Scheduler(jobs, jobsWindow: 2, timeout: .seconds(60), critical: false).run())
    // Each job samples while it holds its node: the nodes of finished jobs are closed already.
    #expect(most.value >= 1 && most.value <= 2, "at most the window's connections at once: \(most.value)")
    #expect(await Fleet.eventually { established(testbed) == 0 })

    // A node with a job to come is not closed between its jobs.
    let first = SshJob(node: nodes[0], command: "true")
    let between = SshJob(node: nodes[1], command: "true").requires(first)
    let again = SshJob(node: nodes[0], command: "true").requires(between)
    #expect(try await Scheduler(first, between, again, timeout: .seconds(60), critical: false).run())
    #expect(await nodes[0].connection.connectionCount == 2, "one more connection in this run, not two")
  }

  /// The nested-scheduler trap: an inner scheduler's end must not close a connection an outer job
  /// still needs; a node used again after closing reconnects.
  @Test func nestedSchedulersShareAndReconnect() async throws {
    let testbed = try await Testbed.start(hosts: 2)
    defer { testbed.stopSynchronously() }
    let node = Fleet.node(testbed, 0)
    let inner = SshJob(node: node, command: "echo inner")
    let outer = SshJob(node: node, command: "echo outer")
    let nested = Scheduler(inner)
    outer.requires(nested)
    let scheduler = Scheduler(nested, outer, timeout: .seconds(30), critical: false)
    #expect(try await scheduler.run())
    #expect(outer.exitStatus == .code(0))
    #expect(await node.connection.connectionCount == 1)
    #expect(await Fleet.eventually { established(testbed) == 0 })
    #expect(node.userCount == 0)
    // Run again: the whole tree registers again before anything runs, so the inner scheduler's
    // end does not close the connection the outer job needs: one more connection, not two.
    #expect(try await scheduler.run())
    #expect(outer.exitStatus == .code(0))
    #expect(await node.connection.connectionCount == 2)
    #expect(await Fleet.eventually { established(testbed) == 0 })
    // A job that asks keepConnection keeps it for everyone, until closed explicitly.
    let kept = SshJob(node: node, command: "true", keepConnection: true)
    let other = SshJob(node: node, command: "true")
    let third = Scheduler(kept, other, critical: false)
    #expect(try await third.run())
    #expect(established(testbed) == 1)
    await closeConnections(in: third)
    #expect(await Fleet.eventually { established(testbed) == 0 })
  }
}

extension Int {
  fileprivate func clamped(min lowest: Int) -> Int { Swift.max(self, lowest) }
}

/// Lets tasks through once `count` of them arrived; the last one runs `onLast` first.
actor Barrier {
  private let count: Int
  private let onLast: @Sendable () -> Void
  private var waiting: [CheckedContinuation<Void, Never>] = []

  init(count: Int, onLast: @escaping @Sendable () -> Void) {
    self.count = count
    self.onLast = onLast
  }

  func arriveAndWait() async {
    if waiting.count + 1 == count {
      onLast()
      for waiter in waiting { waiter.resume() }
      waiting = []
      return
    }
    await withCheckedContinuation { waiting.append($0) }
  }
}

/// A command that waits at a barrier: its job holds its node until every job got there.
struct BarrierProbe: Command {
  let barrier: Barrier
  var label: String? { "probe" }
  var labelLine: String { "probe" }
  var allowedExits: [AllowedExit] { [] }
  var verbose: Bool { false }
  func run(in context: CommandContext) async throws -> SshClient.ExitStatus {
    await barrier.arriveAndWait()
    return .code(0)
  }
}

/// A value set by a probe job.
final class SeenCount: @unchecked Sendable {
  private let lock = NSLock()
  private var stored = -1
  func set(_ value: Int) { lock.withLock { stored = value } }
  func raise(to value: Int) { lock.withLock { stored = max(stored, value) } }
  var value: Int { lock.withLock { stored } }
}

/// A command that runs a closure (a probe) and succeeds.
struct Sample: Command {
  let body: @Sendable () async -> Void
  init(_ body: @escaping @Sendable () async -> Void) { self.body = body }
  var label: String? { "sample" }
  var labelLine: String { "sample" }
  var allowedExits: [AllowedExit] { [] }
  var verbose: Bool { false }
  func run(in context: CommandContext) async throws -> SshClient.ExitStatus {
    await body()
    return .code(0)
  }
}
