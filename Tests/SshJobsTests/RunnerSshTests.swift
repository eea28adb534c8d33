import Foundation
import Testbed
import Testing

@testable import SshJobs

/// The run layer against real sshd: the README's example, shared nodes, closed connections.
@Suite struct RunnerSshTests {
  /// The settings of the testbed: its key and known_hosts, strict.
  func settings(_ testbed: Testbed, commandTimeout: Duration? = nil) -> RunSettings {
    RunSettings(
      keys: [testbed.userKeyPath], defaultUser: testbed.username, hostKeyPolicy: .strict,
      knownHostsPath: testbed.knownHostsPath, connectTimeout: .seconds(60), connectionAttempts: 3,
      commandTimeout: commandTimeout)
  }

  func node(_ testbed: Testbed, _ index: Int) -> NodeSpec {
    .ssh(testbed.hosts[index].address, port: Int(testbed.hosts[index].port))
  }

  @Test func readmeExample() async throws {
    let testbed = try await Fleet.shared()
    // As in the README, on two testbed hosts, plus one whose command fails.
    let spec = RunSpec(
      label: "probe",
      jobs: [2, 3].map { index in
        JobSpec(name: "web\(index)", node: node(testbed, index), commands: [Run("uptime")], critical: false)
      } + [JobSpec(name: "bad", node: node(testbed, 4), commands: [Run("exit 3")], critical: false)])
    let runner = try Runner(spec: spec, settings: settings(testbed, commandTimeout: .seconds(30))) { _ in Fleet.quiet }
    let outcome = await runner.run()
    #expect(outcome.jobs.map(\.status) == [.ok, .ok, .failed(.code(3))])
    #expect(outcome.failures.map(\.spec.name) == ["bad"])
    #expect(outcome.jobs.allSatisfy { $0.username == testbed.username && $0.port == Int(testbed.hosts[0].port) })
  }

  @Test func jobsOnOneHostShareOneConnectionWhichIsClosedAtTheEnd() async throws {
    let testbed = try await Fleet.shared()
    let same = node(testbed, 5)
    var renamed = same
    renamed.name = "the same host, written otherwise"
    let jobs = (0..<4).map { index in
      JobSpec(name: "j\(index)", node: index == 3 ? renamed : same, commands: [Run("echo \(index)")], critical: false)
    }
    let runner = try Runner(spec: RunSpec(label: "shared", jobs: jobs), settings: settings(testbed)) { _ in Fleet.quiet
    }
    let nodes = runner.jobs.compactMap { $0.node as? SshNode }
    #expect(nodes.count == 4 && nodes.allSatisfy { $0 === nodes[0] }, "one node object for the host")
    let outcome = await runner.run()
    #expect(outcome.succeeded)
    #expect(await nodes[0].connection.connectionCount == 1, "one connection for the four jobs")
    #expect(await nodes[0].connection.isConnected == false, "closed at the end of the run")
  }
}
