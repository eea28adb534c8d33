import Foundation
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
  private func build(_ topology: Topology, on testbed: Testbed, keep: Bool) -> (jobs: [SshJob], nodes: [SshNode]) {
    var jobs: [SshJob] = []
    var nodes: [SshNode] = []
    var hostIndex = 0
    func nextHost() -> Int {
      defer { hostIndex += 1 }
      return hostIndex % testbed.hosts.count
    }
    let gateways: [SshNode?] = topology.gateways == 0 ? [nil] : (0..<topology.gateways).map { _ in Fleet.node(testbed, nextHost()) }
    for gateway in gateways {
      if let gateway { nodes.append(gateway) }
      for _ in 0..<topology.nodes {
        let node = Fleet.node(testbed, nextHost(), gateway: gateway)
        nodes.append(node)
        for index in 0..<topology.jobs {
          jobs.append(SshJob(node: node, command: "echo hop \(index)", keepConnection: keep))
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
        // Without keepConnection: all open while the jobs run, all closed when run() returns.
        let (jobs, _) = build(topology, on: testbed, keep: false)
        let seen = SeenCount()
        if case .flat = packing {
          let probe = Job(label: "probe", requires: jobs) { seen.set(testbed.establishedConnections()) }
          let scheduler = packing.scheduler(jobs, probe: probe)
          #expect(try await scheduler.run(), "\(topology) \(packing) \(scheduler.debrief())")
          #expect(seen.value == topology.expected, "\(topology) \(packing): open while running")
        } else {
          #expect(try await packing.scheduler(jobs).run(), "\(topology) \(packing)")
        }
        #expect(
          await Fleet.eventually { established(testbed) == 0 }, "\(topology) \(packing): closed after run()")

        // With keepConnection: still open after run(), closed by closeConnections(in:).
        let kept = build(topology, on: testbed, keep: true)
        let scheduler = packing.scheduler(kept.jobs)
        #expect(try await scheduler.run(), "\(topology) \(packing) kept")
        #expect(established(testbed) == topology.expected, "\(topology) \(packing): kept open")
        await closeConnections(in: scheduler)
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
      let jobs = nodes.map { node in
        SshJob(node: node, command: Run("echo depth \(node.distance)", capture: nil), keepConnection: keep)
      }
      let seen = SeenCount()
      let probe = Job(label: "probe", requires: jobs) { seen.set(testbed.establishedConnections()) }
      let scheduler = Scheduler(jobs + [probe], timeout: .seconds(30), critical: false)
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

/// A value set by a probe job.
final class SeenCount: @unchecked Sendable {
  private let lock = NSLock()
  private var stored = -1
  func set(_ value: Int) { lock.withLock { stored = value } }
  var value: Int { lock.withLock { stored } }
}
