import Foundation
import Testing

@testable import Testbed

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Testbed fault helpers and connection counting")
struct FaultTests {
  @Test func refusingEndpointRefuses() async throws {
    let testbed = try await Testbed.shared()
    let endpoint = try testbed.refusingEndpoint()
    let result = LoopbackSocket.connect(
      address: endpoint.address, port: endpoint.port, timeout: .seconds(1))
    guard case .failure(let error) = result else {
      Issue.record("connected to the refusing endpoint")
      return
    }
    #expect(error.code == ECONNREFUSED)
  }

  @Test func silentEndpointAcceptsButNeverAnswers() async throws {
    let testbed = try await Testbed.shared()
    let endpoint = try testbed.silentEndpoint()
    let fd = try LoopbackSocket.connect(
      address: endpoint.address, port: endpoint.port, timeout: .seconds(1)
    ).get()
    defer { close(fd) }
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    #expect(poll(&entry, 1, 1000) == 0)  // no banner within 1 s
  }

  @Test func changedHostKeyIsRejected() async throws {
    let testbed = try await Testbed.shared()
    let host = try await testbed.startChangedKeyHost()
    let result = try await ssh(config: testbed.sshConfigPath, host.address, "true")
    #expect(result.status == 255)
    #expect(result.stderr.contains("Host key verification failed"), "\(result.stderr)")

    let wrong = try await testbed.knownHostsWithWrongKey(for: testbed.hosts[0])
    let refused = try await ssh(
      config: testbed.sshConfigPath, testbed.hosts[0].address, "true",
      options: ["-o", "UserKnownHostsFile=\(wrong)"])
    #expect(refused.status == 255)
    let accepted = try await ssh(
      config: testbed.sshConfigPath, testbed.hosts[1].address, "true",
      options: ["-o", "UserKnownHostsFile=\(wrong)"])
    #expect(accepted.status == 0, "\(accepted.stderr)")
  }

  @Test func killableHostDiesMidCommand() async throws {
    let testbed = try await Testbed.shared()
    let killable = try await testbed.startKillableHost()
    #expect(testbed.sshdPids.contains(killable.pid))
    let quick = try await ssh(config: testbed.sshConfigPath, killable.host.address, "echo up")
    #expect(quick.status == 0 && quick.stdout == "up\n", "\(quick.stderr)")

    let running = try RunningTool(
      "/usr/bin/ssh", ["-F", testbed.sshConfigPath, killable.host.address, "echo started; sleep 30"])
    try await waitUntil(timeout: .seconds(30)) {
      ProcessTree.descendants(of: [killable.pid]).count >= 2
    }
    let clock = ContinuousClock()
    let start = clock.now
    await killable.kill()
    let result = await running.result()
    #expect(clock.now - start < .seconds(20))  // not the 30 s of the command
    #expect(result.status == 255)
    #expect(isGone(killable.pid))
    #expect(!testbed.sshdPids.contains(killable.pid))
    let after = LoopbackSocket.connect(
      address: killable.host.address, port: testbed.port, timeout: .seconds(1))
    #expect(after.isFailure)
  }

  @Test func establishedConnectionsCountOpenSessions() async throws {
    // A testbed of its own: other tests of this process connect to the shared one at any time.
    let testbed = try await Testbed.start(hosts: 2)
    let host = testbed.hosts[1]
    let before = testbed.establishedConnections()
    #expect(before == 0)
    let running = try RunningTool(
      "/usr/bin/ssh", ["-F", testbed.sshConfigPath, host.address, "sleep 60"])
    // Generous: an ssh handshake on a loaded machine can take seconds (the command outlives it).
    try await waitUntil(timeout: .seconds(50)) {
      ConnectionCounter.sockets().contains {
        $0.state == ConnectionCounter.established && $0.localPort == testbed.port
          && $0.localAddress == host.address
      }
    }
    let established = testbed.establishedConnections()
    running.process.terminate()
    let result = await running.result()
    #expect(established == 1, "ssh said: \(result.stderr)")
    await testbed.stop()
  }
}

/// Polls `condition` every 20 ms until it holds, or fails the test after `timeout`.
func waitUntil(timeout: Duration, _ condition: () -> Bool) async throws {
  let clock = ContinuousClock()
  let deadline = clock.now + timeout
  while !condition() {
    if clock.now >= deadline {
      Issue.record("condition not met within \(timeout)")
      return
    }
    try await Task.sleep(for: .milliseconds(20))
  }
}
